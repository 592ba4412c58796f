"""What was asked: `response.request`."""

import shlex
from urllib.parse import urlparse

from ._cookies import cookie_dict, parse_cookie_string


class Request:
    __slots__ = ("method", "url", "header_tuple", "cookie_tuple", "auth", "data", "cert", "_session", "_jar")

    def __init__(self, method, url, header_tuple, cookie_tuple, auth, data, cert, session=None):
        self.method = method
        self.url = url
        self.header_tuple = header_tuple
        self.cookie_tuple = cookie_tuple
        self.auth = auth
        self.data = data
        self.cert = cert
        self._session = session
        self._jar = None

    @property
    def session_cookies(self):
        """The jar's lines for exactly this host. Read from the jar when first asked for (acurl
        copies the jar at every request; that costs a round trip to the engine thread)."""
        if self._jar is None:
            host = (urlparse(self.url).hostname or "").lower()
            lines = self._session._cookie_lines() if self._session is not None else ()
            self._jar = tuple(line for line in lines if parse_cookie_string(line).domain.lower() == host)
        return self._jar

    @property
    def headers(self):
        pairs = (h.split(b": ", 1) for h in self.header_tuple)
        return {k.decode(): v.decode() for k, v in pairs}

    @property
    def cookies(self):
        given = [parse_cookie_string(c.decode()) for c in self.cookie_tuple]
        jar = [parse_cookie_string(c) for c in self.session_cookies]
        return cookie_dict(given + jar)

    def to_curl(self):
        """The same request as a curl command line."""
        args = ["curl", "-X", self.method.decode("ascii")]
        if self.data is not None:
            data = self.data.decode() if hasattr(self.data, "decode") else self.data
            args.append("-d " + shlex.quote(data))
        headers = self.headers
        if headers:
            args.append(" ".join("-H " + shlex.quote(f"{k}: {v}") for k, v in headers.items()))
        cookies = self.cookies
        if cookies:
            args.append("--cookie " + shlex.quote(";".join(f"{k}={v}" for k, v in cookies.items())))
        if self.auth is not None:
            args.append("--user " + shlex.quote(f"{self.auth[0]}:{self.auth[1]}"))
        args.append(shlex.quote(self.url))
        return " ".join(args)
