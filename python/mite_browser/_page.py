"""What the browser fetched: pages (parsed HTML, their forms, links and embedded resources),
scripts, stylesheets and other resources."""

import re
from urllib.parse import urlencode

from bs4 import BeautifulSoup

from ._errors import ElementNotFoundError
from ._form import Form
from ._urls import url_builder

EMBEDDED_URL_REGEX = re.compile(
    r"""\(\s*[\]?["']([^"':.]*:)?([^"':.]*\.[^"':.]*)[\]?["']\s*\)""", re.IGNORECASE
)


def _search(kwargs):
    # Beautiful Soup renamed `text=` to `string=` (the old name warns); mite's callers say `text`.
    if "text" in kwargs:
        kwargs = dict(kwargs)
        text = kwargs.pop("text")
        if text is not None:
            kwargs["string"] = text
    return kwargs


class Resource:
    """Anything fetched; the base of pages, scripts and stylesheets."""

    def __init__(self, response, browser):
        self.response = response
        self.browser = browser

    @property
    def text(self):
        return self.response.text

    @property
    def _embeded_urls(self):
        return []

    @property
    def _resources_with_embedabbles(self):
        return []


class Page(Resource):
    """A page built from an HTML response."""

    def __init__(self, response, browser):
        super().__init__(response, browser)
        self._dom = None
        self.scripts = []
        self.stylesheets = []
        self.resources = []
        self.frames = []

    def assert_element_in(self, name=None, attrs=None, recursive=True, text=None, **kwargs):
        if attrs is None:
            attrs = {}
        if self.find(name=name, attrs=attrs, recursive=recursive, text=text, **kwargs):
            return True
        raise ElementNotFoundError(name=name, attrs=attrs, text=text, **kwargs)

    @property
    def dom(self):
        if self._dom is None:
            self._dom = BeautifulSoup(self.response.text, "html.parser")
        return self._dom

    @property
    def cookies(self):
        return self.response.cookies

    @property
    def headers(self):
        return self.response.headers

    @property
    def status_code(self):
        return self.response.status_code

    def find_all(self, *args, **kwargs):
        return self.dom.find_all(*args, **_search(kwargs))

    def find(self, *args, **kwargs):
        return self.dom.find(*args, **_search(kwargs))

    @property
    def _resources_with_embedabbles(self):
        """Sub-resources that may embed resources of their own."""
        return self.frames + self.stylesheets

    def _register_resource(self, response, rtype):
        if rtype == "resource":
            self.resources.append(Resource(response, self.browser))
        elif rtype == "script":
            self.scripts.append(Script(response, self.browser))
        elif rtype == "stylesheet":
            self.stylesheets.append(Stylesheet(response, self.browser))
        elif rtype == "page":
            self.frames.append(Page(response, self.browser))

    @property
    def _embeded_urls(self):
        """`(url, kind)` for every resource the page embeds, resolved against its base."""
        base_url = self.response.url
        for burl in self.find_all("base", {"href": True}):
            base_url = burl.attrs["href"]
        for elem in self.find_all(True, attrs={"background": True}):
            yield url_builder(base_url, elem.attrs["background"]), "resource"
        for elem in self.find_all(["img", "embed", "bgsound"], attrs={"src": True}):
            yield url_builder(base_url, elem.attrs["src"]), "resource"
        for elem in self.find_all(["script"], attrs={"src": True}):
            yield url_builder(base_url, elem.attrs["src"]), "script"
        for elem in self.find_all(["frame", "iframe"], attrs={"src": True}):
            yield url_builder(base_url, elem.attrs["src"]), "page"
        for elem in self.find_all("link", attrs={"rel": "stylesheet", "href": True}):
            yield url_builder(base_url, elem.attrs["href"]), "stylesheet"
        for elem in self.find_all("input", attrs={"type": "image", "href": True}):
            yield url_builder(base_url, elem.attrs["href"]), "resource"
        for elem in self.find_all("applet", attrs={"code": True}):
            yield url_builder(base_url, elem.attrs["code"]), "resource"
        for elem in self.find_all("object", attrs={"codebase": True}):
            yield url_builder(base_url, elem.attrs["codebase"]), "resource"
        for elem in self.find_all("object", attrs={"data": True}):
            yield url_builder(base_url, elem.attrs["data"]), "resource"
        for elem in self.find_all(True, attrs={"style": True}):
            if elem.attrs["style"].strip().startswith("url("):
                url = elem.attrs["style"].split("url(", 1)[-1].rsplit(")", 1)[0]
                yield url_builder(base_url, url), "resource"

    async def on_dom_ready(self):
        pass

    def get_form(self, name=None):
        return [f for f in self.get_forms() if name is None or f.name == name][0]

    def get_forms(self):
        return [Form(e, self) for e in self.find_all("form")]

    async def click_link(self, text):
        """Follows the first link whose text is `text`; returns the linked Page."""
        elem = self.find("a", text=text)
        if elem is None or not elem.has_attr("href"):
            raise ElementNotFoundError(name="a", text=text)
        return await self.browser.get(url_builder(self.response.url, elem.attrs["href"]))

    async def xhr_request(
        self, method, rel_or_abs_url, *, formdata=None, data=None, json=None, **kwargs
    ):
        """A request as the page's scripts would make it (Referer, X-Requested-With); returns
        the response itself, not a Page."""
        headers = {"Referer": self.response.url, "X-Requested-With": "XMLHttpRequest"}
        if formdata is not None:
            assert data is None
            data = urlencode(formdata)
            headers["Content-Type"] = "application/x-www-form-urlencoded; charset=UTF-8"
        body = {k: v for k, v in (("data", data), ("json", json)) if v is not None}
        return await self.browser._send(
            method, url_builder(self.response.url, rel_or_abs_url), headers=headers, **body
        )

    async def xhr_post(self, rel_or_abs_url, *, formdata=None, data=None, json=None, **kwargs):
        return await self.xhr_request(
            "POST", rel_or_abs_url, formdata=formdata, data=data, json=json, **kwargs
        )

    def __repr__(self):
        return str(self.dom)


class Script(Resource):
    pass


class Stylesheet(Resource):
    """A stylesheet; the `url(...)` resources it names are fetched with it."""

    def __init__(self, response, browser):
        super().__init__(response, browser)
        self.resources = []

    @property
    def _embeded_urls(self):
        for match in EMBEDDED_URL_REGEX.finditer(self.response.text):
            yield url_builder(self.response.url, match[2]), "resource"

    def _register_resource(self, response, rtype):
        self.resources.append(Resource(response, self.browser))

    @property
    def _resources_with_embedabbles(self):
        return self.resources
