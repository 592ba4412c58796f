"""A WebDriver scenario: one headless Chromium journey loads a page twice and reads it; each
load sends a `selenium_page_load_metrics` message.

Needs a WebDriver and a site, e.g. `chromedriver --port=9515 &` (Debian: `apt-get install
chromium chromium-driver`), then from this folder:
`MITE_CONF_webdriver_command_executor=http://127.0.0.1:9515
 MITE_CONF_webdriver_capabilities=selenium_example:capabilities
 MITE_CONF_target=http://127.0.0.1:8000 mite scenario test selenium_example:scenario`
"""

from mite.datapools import SingleRunDataPool
from mite_selenium import mite_selenium

# `webdriver_capabilities` names this spec: headless Chromium (the binary Debian installs).
capabilities = {
    "browserName": "chrome",
    "goog:chromeOptions": {
        "binary": "/usr/bin/chromium",
        "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
    },
}

pages = SingleRunDataPool("/page")


@mite_selenium
async def visit(ctx, path):
    target = ctx.config.get("target", "http://127.0.0.1:8000")
    async with ctx.transaction("first visit"):
        ctx.browser.get(f"{target}{path}?id=first")
        title = ctx.browser.wait_for_element(("id", "title"))  # (By.ID, "title")
        ctx.send("page_title", text=title.text, url=ctx.browser.current_url)
    async with ctx.transaction("second visit"):
        ctx.browser.get(f"{target}{path}?id=second")


def scenario():
    return [["selenium_example:visit", pages, lambda start, end: 1]]
