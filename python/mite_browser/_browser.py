"""`ctx.browser`: a journey's HTTP session that returns pages, with default headers and
optional fetching of each page's embedded resources."""

import asyncio

from acurl import CaseInsensitiveDict, parse_cookie_string

from ._page import Page


def _embedded_transaction_name(ctx):
    """`"<current transaction> - embedded resources"`, as mite 2.11 meant to name it (it read a
    `_transaction_name` its context no longer had). The transaction nests inside the current
    one, so only the current one's own name is repeated."""
    current, _ = getattr(ctx, "_active_transaction", (None, None))
    if not current:
        return "embedded resources"
    return f"{current.rsplit(' :: ', 1)[-1]} - embedded resources"


class Browser:
    """Wraps the journey's `ctx.http` session with behaviour closer to a real browser."""

    def __init__(self, context, embedded_res=False):
        self._ctx = context
        self._session = context.http
        self._embedded_res = embedded_res
        # Sent with every request the browser makes (a request's own headers win). mite 2.11
        # returned the session's `headers`, which acurl sessions no longer had.
        self._headers = CaseInsensitiveDict()

    async def _send(self, method, url, *args, **kwargs):
        """The session's method for `method`, with the browser's default headers."""
        if self._headers:
            kwargs["headers"] = {**self._headers, **(kwargs.get("headers") or {})}
        return await getattr(self._session, method.lower())(url, *args, **kwargs)

    async def _download_resource(self, url, origin, type):
        origin._register_resource(await self._send("GET", url), type)

    async def _download_resources(self, origin):
        """Fetches what `origin` embeds, then what those embed (frames, stylesheets)."""
        await asyncio.gather(
            *[self._download_resource(url, origin, rtype) for url, rtype in origin._embeded_urls]
        )
        await asyncio.gather(
            *[self._download_resources(resource) for resource in origin._resources_with_embedabbles]
        )

    async def request(self, method, url, *args, **kwargs):
        """Sends the request; returns a Page (its embedded resources fetched when asked)."""
        embedded_res = kwargs.pop("embedded_res", self._embedded_res)
        page = Page(await self._send(method, url, *args, **kwargs), self)
        if embedded_res:
            async with self._ctx.transaction(_embedded_transaction_name(self._ctx)):
                await self._download_resources(page)
        return page

    @property
    def headers(self):
        return self._headers

    async def get(self, url, *args, **kwargs):
        return await self.request("GET", url, *args, **kwargs)

    async def post(self, url, *args, **kwargs):
        return await self.request("POST", url, *args, **kwargs)

    async def options(self, url, *args, **kwargs):
        return await self.request("OPTIONS", url, *args, **kwargs)

    async def patch(self, url, *args, **kwargs):
        return await self.request("PATCH", url, *args, **kwargs)

    def erase_all_cookies(self):
        self._session.erase_all_cookies()

    def erase_session_cookies(self):
        # libcurl can ("SESS"), but the session does not expose it.
        raise NotImplementedError(
            "erase_session_cookies is not available on this HTTP engine; use erase_all_cookies"
        )

    def get_cookie_list(self):
        """The session's cookies, one `acurl._Cookie` per cookie-jar line."""
        lines = self._session._cookie_lines()
        return [
            parse_cookie_string(line if isinstance(line, str) else line.decode()) for line in lines
        ]
