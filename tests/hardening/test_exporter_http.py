"""The exporter's /metrics server under hostile HTTP: limits answered with the right status,
flat memory and a bounded thread count, while a normal scrape keeps working."""

import socket
import urllib.request

import harness


def exporter(started):
    web = harness.free_port()
    c = started("prometheus_exporter", f"--stats-out-socket={harness.free_address()}",
                f"--web-address=127.0.0.1:{web}")
    harness.wait_for(lambda: scrape_ok(web), 20, "the exporter to serve /metrics")
    return c, web


def scrape_ok(port):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
            return r.status == 200
    except OSError:
        return False


def exchange(port, data, read_limit=1 << 16):
    """Sends `data` on a fresh connection; returns what came back before the server closed it
    (or stopped sending for 5 s)."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass
        out = b""
        try:
            while len(out) < read_limit:
                chunk = s.recv(65536)
                if not chunk:
                    break
                out += chunk
        except (TimeoutError, ConnectionResetError):
            pass
        return out


def status_of(reply):
    return int(reply.split(b" ", 2)[1]) if reply.startswith(b"HTTP/1.") else None


def test_malformed_requests_get_400_and_limits_their_status(started):
    _, port = exporter(started)
    assert status_of(exchange(port, b"GET /metrics HTTP/9.9\r\n\r\n")) in (400, 505)
    assert status_of(exchange(port, b"GET /metrics HTTP/1.1\r\nno colon here\r\n\r\n")) == 400
    assert status_of(exchange(port, b"GET /" + b"a" * (10 << 20) + b" HTTP/1.1\r\n\r\n")) == 414
    big_head = b"GET /metrics HTTP/1.1\r\n" + b"X-A: " + b"b" * (200 << 10) + b"\r\n\r\n"
    assert status_of(exchange(port, big_head)) == 431
    post = b"POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\n"
    assert status_of(exchange(port, post)) == 413


def test_a_pipelined_long_request_line_gets_414_after_the_answer_before_it(started):
    _, port = exporter(started)
    first = b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"
    for size in (100 << 10, 10 << 20):  # past hyper's 64 KiB head buffer, which answers 431
        long_line = b"GET /" + b"a" * size + b" HTTP/1.1\r\nHost: x\r\n\r\n"
        reply = exchange(port, first + long_line, read_limit=1 << 20)
        answers = [a for a in reply.split(b"HTTP/1.1 ")[1:]]
        assert [int(a[:3]) for a in answers] == [200, 414], reply[:300]


def test_a_chunked_body_is_not_read_as_the_next_request(started):
    _, port = exporter(started)
    inner = b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"
    body = b"%x\r\n%s\r\n0\r\n\r\n" % (len(inner), inner)
    reply = exchange(port, b"POST /metrics HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                     + body)
    assert reply.count(b"HTTP/1.1 ") == 1, reply
    assert status_of(reply) == 405


def test_a_huge_request_line_holds_memory_flat(started):
    c, port = exporter(started)
    before = c.rss_kb()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        chunk = b"A" * (1 << 20)
        try:
            for _ in range(200):  # 200 MB without a newline
                s.sendall(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass
    assert c.alive()
    grew_mb = (c.rss_kb() - before) / 1024
    assert grew_mb < 50, f"RSS grew {grew_mb:.0f} MB"
    assert scrape_ok(port)


def test_thousands_of_idle_connections_use_a_bounded_number_of_threads(started):
    c, port = exporter(started)
    before = c.rss_kb()
    conns = []
    try:
        # Four times MAX_CONNECTIONS (256): past the limit every new one evicts an old one. The
        # connect timeout is generous: a loaded machine accepts slowly, which is not a failure.
        for _ in range(1024):
            conns.append(socket.create_connection(("127.0.0.1", port), timeout=60))
        # Each connection is accepted (or evicted) by now once a scrape gets through after them.
        assert scrape_ok(port)
        assert c.threads() < 50, c.threads()
        grew_mb = (c.rss_kb() - before) / 1024
        assert grew_mb < 100, f"RSS grew {grew_mb:.0f} MB"
    finally:
        for s in conns:
            s.close()
    assert scrape_ok(port)
