"""Sessions: one cookie jar each, requests and redirects, over one native engine per loop."""

import json as _json
import os

from mite._native import CurlEngine

from ._cookies import cookie_dict, parse_cookie_string, session_cookie_for_url
from ._errors import RequestError
from ._request import Request
from ._response import Response

_REDIRECT_TO_GET = frozenset((301, 302, 303))


class CurlWrapper:
    """acurl's entry point: `CurlWrapper(loop).session()`. One engine per wrapper: libcurl on its
    own thread, or with MITE_HTTP_ENGINE=loop on the event loop's thread (acurl's design)."""

    def __init__(self, loop):
        self.loop = loop
        self._engine = CurlEngine(loop, inline=os.environ.get("MITE_HTTP_ENGINE", "thread") == "loop")
        loop.add_reader(self._engine.fd, self._engine.drain)

    def session(self, timeout=None, http_version=None, verify=False):
        """A new session (its own cookie jar). `timeout` (seconds) and `http_version`
        (`"1.1"`, `"2"`) apply to each request unless the request gives its own; `verify`
        turns TLS certificate checks on (off by default, as in acurl)."""
        return Session(self, timeout=timeout, http_version=http_version, verify=verify)

    def close(self):
        """Stops the engine thread."""
        if not self.loop.is_closed():
            self.loop.remove_reader(self._engine.fd)
        self._engine.close()


class Session:
    def __init__(self, wrapper, timeout=None, http_version=None, verify=False):
        self._wrapper = wrapper
        self._engine = wrapper._engine
        self._id = self._engine.open_session()
        self._timeout = timeout
        self._http_version = http_version
        self._verify = verify
        self.response_callback = None

    def close(self):
        """Releases the cookie jar (also done when the session is collected)."""
        if self._id is not None:
            self._engine.close_session(self._id)
            self._id = None

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass

    def _cookie_lines(self):
        # A closed session (its journey is over) has no jar left to read.
        return () if self._id is None else self._engine.cookies(self._id)

    def cookies(self):
        """name -> value of every cookie in the session's jar."""
        return cookie_dict(parse_cookie_string(c) for c in self._cookie_lines())

    def erase_all_cookies(self):
        self._engine.erase_cookies(self._id)

    def set_response_callback(self, callback):
        self.response_callback = callback

    async def _inner_request(self, method, url, headers, cookies, auth, data, cert, timeout, http_version):
        raw = await self._engine.request(
            self._id, method, url, headers, cookies, auth, data, cert, timeout, http_version, self._verify
        )
        return Response(raw, Request(method, url, headers, cookies, auth, data, cert, self), self)

    async def _outer_request(
        self,
        method,
        url,
        *,
        headers=(),
        cookies=None,
        auth=None,
        data=None,
        json=None,
        cert=None,
        allow_redirects=True,
        max_redirects=5,
        timeout=None,
        http_version=None,
    ):
        if not isinstance(method, bytes):
            raise ValueError("method must be bytes")
        if not isinstance(url, str):
            raise ValueError("url must be a string")
        headers = dict(headers)
        if json is not None:
            if data is not None:
                raise ValueError("use only one or none of data or json")
            data = _json.dumps(json).encode()
            headers.setdefault("Content-Type", "application/json")
        elif data is not None:
            if isinstance(data, str):
                data = data.encode()
            elif not isinstance(data, bytes):
                raise ValueError("data must be str or bytes")
        if auth is not None and not (
            isinstance(auth, tuple) and len(auth) == 2 and all(isinstance(a, str) for a in auth)
        ):
            raise ValueError(f"auth must be a 2-tuple of strings but it was: {auth}")
        if cert is not None and not (
            isinstance(cert, tuple) and len(cert) == 2 and all(isinstance(c, str) for c in cert)
        ):
            raise ValueError(f"cert must be a 2-tuple of strings but it was: {cert}")
        header_tuple = tuple(k.encode() + b": " + v.encode() for k, v in headers.items())
        cookie_tuple = tuple(session_cookie_for_url(url, k, v).format() for k, v in (cookies or {}).items())
        timeout = self._timeout if timeout is None else timeout
        http_version = self._http_version if http_version is None else http_version

        response = await self._inner_request(
            method, url, header_tuple, cookie_tuple, auth, data, cert, timeout, http_version
        )
        if self.response_callback:
            self.response_callback(response)
        if allow_redirects and 300 <= response.status_code < 400 and response.redirect_url is not None:
            while max_redirects > 0:
                max_redirects -= 1
                if response.status_code in _REDIRECT_TO_GET:
                    method, data = b"GET", None
                previous = response
                response = await self._inner_request(
                    method, previous.redirect_url, header_tuple, cookie_tuple, auth, data, cert, timeout, http_version
                )
                if self.response_callback:
                    self.response_callback(response)
                response._set_prev(previous)
                if not (300 <= response.status_code < 400 and response.redirect_url is not None):
                    break
            else:
                raise RequestError("Max Redirects")
        return response

    # Plain functions returning the coroutine: one frame less per request than `async def`
    # wrappers, and the same awaitable for the caller.
    def get(self, *args, **kwargs):
        return self._outer_request(b"GET", *args, **kwargs)

    def post(self, *args, **kwargs):
        return self._outer_request(b"POST", *args, **kwargs)

    def put(self, *args, **kwargs):
        return self._outer_request(b"PUT", *args, **kwargs)

    def patch(self, *args, **kwargs):
        return self._outer_request(b"PATCH", *args, **kwargs)

    def delete(self, *args, **kwargs):
        return self._outer_request(b"DELETE", *args, **kwargs)

    def head(self, *args, **kwargs):
        return self._outer_request(b"HEAD", *args, **kwargs)

    def options(self, *args, **kwargs):
        return self._outer_request(b"OPTIONS", *args, **kwargs)
