"""mite_playwright driving Debian's Chromium (through `executable_path`), beside mite 2.11.0."""

import asyncio
import math

import browser_support as bs
import pytest

from mite.context import Context
from mite_playwright import mite_playwright

SPEC = "playwright_example:scenario"
PAGE_LOAD_FIELDS = [
    "url", "status", "dns_lookup_time", "tcp_time", "tls_time", "time_to_first_byte",
    "time_to_last_byte", "total_time", "request_start_time", "response_start_time",
    "response_end_time", "response_size", *bs.TAIL_KEYS,
]  # fmt: skip
PAINT_FIELDS = [
    "first_paint", "first_contentful_paint", "js_onload_time", "render_time",
    "time_to_interactive", "page_weight", *bs.TAIL_KEYS,
]  # fmt: skip


def test_example_with_chromium_matches_mite_2_11(tmp_path):
    runs = {}
    with bs.site() as site:
        for name, mite in (("ours", bs.OUR_MITE), ("ref", bs.REF_MITE)):
            cwd = tmp_path / name
            cwd.mkdir()
            config = {"target": site.url, "chromium_executable": bs.CHROMIUM}
            proc = bs.run_example(mite, "playwright_example.py", cwd, SPEC, config)
            assert proc.returncode == 0, (name, proc.stderr[-3000:])
            runs[name] = bs.journey_messages(bs.collected(cwd))
    ours, ref = runs["ours"], runs["ref"]
    assert "Traceback" not in proc.stderr
    loads = [m for m in ours if m["type"] == "playwright_page_load_metrics"]
    paints = [m for m in ours if m["type"] == "playwright_paint_metrics"]
    expected = ["__root__ :: first visit", "__root__ :: reload"]
    assert [m["transaction"] for m in loads] == [m["transaction"] for m in paints] == expected
    for load, paint in zip(loads, paints, strict=True):
        assert list(load) == PAGE_LOAD_FIELDS
        assert load["status"] == 200 and load["url"].startswith(f"{site.url}/page?id=first")
        assert load["response_size"] > 0 and 0 <= load["time_to_first_byte"] <= load["total_time"]
        assert list(paint) == PAINT_FIELDS
        assert 0 < paint["first_paint"] <= paint["first_contentful_paint"] < 60
        # mite 2.11 sent NaN here (it read a navigationStart that navigation entries lack).
        assert 0 < paint["time_to_interactive"] <= paint["js_onload_time"] < 60
        assert isinstance(paint["page_weight"], int) and paint["page_weight"] > 0
    assert all(
        math.isnan(m["js_onload_time"]) for m in ref if m["type"] == "playwright_paint_metrics"
    )
    bs.assert_same_shapes(ours, ref)


class _Sent:
    """Collects what a context sends (the context itself is mite's real one)."""

    def __init__(self):
        self.messages = []

    def __call__(self, message):
        self.messages.append(message)


def test_sync_methods_objects_and_failures_through_the_wrapper():
    sent = _Sent()
    ctx = Context(sent, {})
    closed = f"http://127.0.0.1:{bs.free_port()}/"

    @mite_playwright
    async def journey(ctx, playwright, url):
        browser = await playwright.chromium.launch(
            executable_path=bs.CHROMIUM, args=["--no-sandbox"]
        )
        try:
            page = await browser.new_page()
            await page.goto(url)
            # Synchronous Playwright methods stay synchronous (mite 2.11 made them coroutines).
            locator = page.locator("#title")
            assert await locator.text_content() == "Hello from the loopback site"
            assert page.is_closed() is False
            async with page.expect_navigation():
                await page.evaluate(
                    "setTimeout(() => { location.href = location.href.replace('id=a', 'id=b'); }, 0)"
                )
            assert page.url.endswith("id=b")
            with pytest.raises(Exception, match="ERR_CONNECTION_REFUSED"):
                await page.goto(closed)
        finally:
            await browser.close()

    with bs.site() as site:
        asyncio.run(journey(ctx, f"{site.url}/page?id=a"))
    types = [m["type"] for m in sent.messages]
    assert types == ["playwright_page_load_metrics", "playwright_paint_metrics", "playwright_error"]
    error = sent.messages[-1]
    assert error["method"] == "goto" and "ERR_CONNECTION_REFUSED" in error["error"]


def test_without_playwright_installed_one_line_names_the_extra(tmp_path):
    proc = bs.run_without(tmp_path, "playwright", "playwright_example.py", SPEC)
    line = bs.assert_one_line_error(proc)
    assert 'pip install "mite[playwright]"' in line
