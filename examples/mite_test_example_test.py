"""Unit tests for the journey in `mite_test_example.py`, written with mite.test: each runs the
journey once against a local target (target_server.py's handler on a free port) and checks what
it requested and the messages it sent. Run with `pytest mite_test_example_test.py`."""

import asyncio
import socket
import threading
from http.server import ThreadingHTTPServer

import pytest
from mite_test_example import buy
from target_server import Target

import acurl
from mite.datapools import IterableDataPool
from mite.test import http_spy, run_single_journey


@pytest.fixture(scope="module")
def target():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Target)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def product(n):
    """A datapool holding one product, so each test knows what the journey gets."""
    return IterableDataPool([(n,)])


def of_type(result, msg_type):
    return [msg for msg, _ in result["messages"] if msg["type"] == msg_type]


def test_buy_browses_then_posts_to_the_basket(target):
    result = asyncio.run(run_single_journey({"target": target}, http_spy(buy), product(3)))
    (page,) = result["http"]["get"]
    (basket,) = result["http"]["post"]
    assert page.url == f"{target}/products/3"
    assert page.json()["name"] == "product 3"
    assert basket.status_code == 201
    assert basket.json() == {"product": 3, "name": "product 3"}


def test_buy_sends_metrics_transactions_and_its_own_message(target):
    result = asyncio.run(run_single_journey({"target": target}, buy, product(4)))
    assert [m["method"] for m in of_type(result, "http_metrics")] == [b"GET", b"POST"]
    assert [t["transaction"] for t in of_type(result, "txn")] == ["browse", "add to basket"]
    assert not any(t["had_error"] for t in of_type(result, "txn"))
    (added,) = of_type(result, "basket_added")
    assert (added["product"], added["status"]) == (4, 201)


def test_an_unreachable_target_fails_the_journey():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{s.getsockname()[1]}"
    with pytest.raises(acurl.AcurlError):
        asyncio.run(run_single_journey({"target": closed}, buy, product(5)))
