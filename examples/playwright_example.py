"""A Playwright scenario: one journey opens headless Chromium, loads a page and follows it with a
reload; each response sends `playwright_page_load_metrics` and `playwright_paint_metrics`.

Playwright drives the system's Chromium (`chromium_executable`, default /usr/bin/chromium), so no
browser download is needed. Needs a site; from this folder:
`MITE_CONF_target=http://127.0.0.1:8000 mite scenario test playwright_example:scenario`
"""

from mite.datapools import SingleRunDataPool
from mite_playwright import mite_playwright

pages = SingleRunDataPool("/page")


@mite_playwright
async def visit(ctx, playwright, path):
    target = ctx.config.get("target", "http://127.0.0.1:8000")
    browser = await playwright.chromium.launch(
        executable_path=ctx.config.get("chromium_executable", "/usr/bin/chromium"),
        headless=True,
        args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
    )
    try:
        page = await browser.new_page()
        async with ctx.transaction("first visit"):
            await page.goto(f"{target}{path}?id=first")
            ctx.send("page_title", text=await page.title(), url=page.url)
        async with ctx.transaction("reload"):
            await page.reload()
    finally:
        await browser.close()


def scenario():
    return [["playwright_example:visit", pages, lambda start, end: 1]]
