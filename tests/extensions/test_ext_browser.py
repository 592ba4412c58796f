"""mite_browser over the native HTTP engine against a loopback site, beside mite 2.11.0."""

import asyncio
import json

import browser_support as bs
import pytest

from mite.context import Context
from mite_browser import Browser, browser_decorator

SPEC = "browser_example:scenario"
HTTP_METRICS_FIELDS = [
    "start_time", "effective_url", "response_code", "dns_time", "connect_time", "tls_time",
    "transfer_start_time", "first_byte_time", "total_time", "primary_ip", "method",
    "download_size", *bs.TAIL_KEYS,
]  # fmt: skip

EMBEDDED_SCENARIO = """
from mite.datapools import SingleRunDataPool
from mite_browser import browser_decorator


@browser_decorator(embedded_resources=True)
async def home(ctx, path):
    async with ctx.transaction("home"):
        page = await ctx.browser.get(ctx.config.get("target") + path)
        ctx.send("page_parts", scripts=len(page.scripts), stylesheets=len(page.stylesheets),
                 resources=len(page.resources), frames=len(page.frames),
                 nested=len(page.frames[0].resources) + len(page.stylesheets[0].resources))


def scenario():
    return [["embedded:home", SingleRunDataPool("/shop"), lambda start, end: 1]]
"""


def test_example_matches_mite_2_11(tmp_path):
    runs = {}
    with bs.site() as site:
        for name, mite in (("ours", bs.OUR_MITE), ("ref", bs.REF_MITE)):
            cwd = tmp_path / name
            cwd.mkdir()
            proc = bs.run_example(mite, "browser_example.py", cwd, SPEC, {"target": site.url})
            assert proc.returncode == 0, (name, proc.stderr[-3000:])
            runs[name] = bs.journey_messages(bs.collected(cwd))
        searches = [r for r in site.requests if r["path"] == "/search"]
    assert "Traceback" not in proc.stderr
    ours, ref = runs["ours"], runs["ref"]
    metrics = [m for m in ours if m["type"] == "http_metrics"]
    assert [(m["transaction"], m["method"], m["response_code"]) for m in metrics] == [
        ("__root__ :: home", b"GET", 200),
        ("__root__ :: products", b"GET", 200),
        ("__root__ :: search", b"POST", 200),
    ]
    assert all(list(m) == HTTP_METRICS_FIELDS for m in metrics)
    assert metrics[1]["effective_url"] == f"{site.url}/products?page=1"
    bs.assert_same_shapes(ours, ref)
    # Ours submits the form as a browser would; mite 2.11 sent "None" for the select and the
    # textarea and the first radio button instead of the checked one.
    ours_form = dict(bs.parse_form(searches[0]["body"]))
    assert ours_form == {
        "q": "boots",
        "token": "abc123",
        "sort": "name",
        "note": "first note",
        "size": "m",
    }
    assert dict(bs.parse_form(searches[1]["body"]))["sort"] == "None"
    assert searches[0]["headers"]["Cookie"] == "visitor=v1"


def test_embedded_resources_work_where_mite_2_11_fails(tmp_path):
    runs = {}
    with bs.site() as site:
        for name, mite in (("ours", bs.OUR_MITE), ("ref", bs.REF_MITE)):
            cwd = tmp_path / name
            cwd.mkdir()
            (cwd / "embedded.py").write_text(EMBEDDED_SCENARIO)
            proc = bs.run_mite(
                mite,
                cwd,
                "embedded:scenario",
                {"target": site.url},
                bs.PROCESSORS,
                "--max-errors-threshold=5",
            )
            assert proc.returncode == 0, (name, proc.stderr[-3000:])
            runs[name] = bs.journey_messages(bs.collected(cwd))
    ours, ref = runs["ours"], runs["ref"]
    # mite 2.11 reads a `_transaction_name` its context does not have.
    assert [(m["type"], m.get("ex_type")) for m in ref if m["type"] in ("error", "exception")] == [
        ("exception", "AttributeError")
    ]
    assert not [m for m in ours if m["type"] in ("error", "exception")]
    embedded_txn = "__root__ :: home :: home - embedded resources"
    fetched = {
        m["effective_url"].removeprefix(site.url)
        for m in ours
        if m["type"] == "http_metrics" and m["transaction"] == embedded_txn
    }
    assert fetched == {
        "/static/site.css", "/static/app.js", "/static/logo.gif", "/frame",
        "/static/frame.gif", "/static/bg.gif",
    }  # fmt: skip
    parts = next(m for m in ours if m["type"] == "page_parts")
    assert (parts["scripts"], parts["stylesheets"], parts["resources"], parts["frames"]) == (
        1,
        1,
        1,
        1,
    )
    assert parts["nested"] == 2
    txns = [m["transaction"] for m in ours if m["type"] == "txn"]
    assert txns == [embedded_txn, "__root__ :: home", "__root__"]


def _run_journey(journey, *args):
    sent = []
    ctx = Context(sent.append, {})
    asyncio.run(journey(ctx, *args))
    assert not [m for m in sent if m["type"] in ("error", "exception")], sent
    return ctx, sent


def test_get_forms_xhr_headers_and_cookies():
    @browser_decorator()
    async def journey(ctx, target):
        assert isinstance(ctx.browser, Browser)
        ctx.browser.headers["User-Agent"] = "mite-browser-test"
        home = await ctx.browser.get(f"{target}/shop")
        assert [c.name for c in ctx.browser.get_cookie_list()] == ["visitor"]
        forms = await home.click_link("Forms")
        form = forms.get_form("filter")
        assert form.method == "GET"
        form["colour"] = "blue"
        filtered = await form.submit()
        echoed = json.loads(filtered.find("pre", attrs={"id": "echo"}).text)
        # A GET form's fields replace the action's query, as a browser sends them.
        assert echoed["method"] == "GET" and echoed["form"] == {}
        # mite 2.11 would fail on this form: its radio lookup reads the nameless submit's name.
        assert echoed["query"] == {"colour": "blue", "instock": "yes", "cut": "slim"}
        assert echoed["referer"] is None
        assert echoed["user_agent"] == "mite-browser-test"
        resp = await home.xhr_post("/echo", formdata={"a": "1"})
        sent_xhr = resp.json()
        assert sent_xhr["requested_with"] == "XMLHttpRequest"
        assert sent_xhr["referer"] == f"{target}/shop"
        assert sent_xhr["form"] == {"a": "1"}
        assert sent_xhr["content_type"].startswith("application/x-www-form-urlencoded")
        assert sent_xhr["cookie"] == "visitor=v1"
        ctx.browser.erase_all_cookies()
        assert ctx.browser.get_cookie_list() == []
        with pytest.raises(Exception, match="Could not find element"):
            home.assert_element_in("h1", text="Not there")

    with bs.site() as site:
        ctx, sent = _run_journey(journey, site.url)
    # The journey's attributes are gone afterwards.
    assert not hasattr(ctx, "browser") and not hasattr(ctx, "http")
    assert [m["type"] for m in sent] == ["http_metrics"] * 4


def test_without_beautifulsoup_installed_one_line_names_the_extra(tmp_path):
    proc = bs.run_without(tmp_path, "bs4", "browser_example.py", SPEC)
    line = bs.assert_one_line_error(proc)
    assert 'pip install "mite[browser]"' in line
