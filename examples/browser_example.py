"""A mite_browser scenario: one journey opens a shop's home page, follows a link, and fills in
and submits a form, all over mite's native HTTP engine (each request sends `http_metrics`).

Needs a site; from this folder:
`MITE_CONF_target=http://127.0.0.1:8000 mite scenario test browser_example:scenario`
"""

from mite.datapools import SingleRunDataPool
from mite_browser import browser_decorator

queries = SingleRunDataPool("boots")


@browser_decorator()
async def shop(ctx, query):
    target = ctx.config.get("target", "http://127.0.0.1:8000")
    async with ctx.transaction("home"):
        home = await ctx.browser.get(f"{target}/shop")
        home.assert_element_in("h1", text="Welcome")
    async with ctx.transaction("products"):
        products = await home.click_link("Products")
        assert products.status_code == 200, products.status_code
    async with ctx.transaction("search"):
        form = home.get_form("search")
        form["q"] = query
        results = await form.submit()
        results.assert_element_in("pre", attrs={"id": "echo"})
        ctx.send("search_result", status=results.status_code, form_fields=len(form.fields))


def scenario():
    return [["browser_example:shop", queries, lambda start, end: 1]]
