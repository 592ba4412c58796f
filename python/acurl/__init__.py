"""acurl's API (sessions, requests, responses, cookies) over mite's native libcurl engine, for
journeys that use acurl directly; `mite_http` uses the same sessions."""

from ._cookies import Cookie, _Cookie, parse_cookie_string, session_cookie_for_url
from ._errors import AcurlError, RequestError
from ._headers import CaseInsensitiveDefaultDict, CaseInsensitiveDict, _CaseInsensitiveDict
from ._request import Request
from ._response import Response, _Response
from ._session import CurlWrapper, Session

__all__ = [
    "AcurlError",
    "CaseInsensitiveDefaultDict",
    "CaseInsensitiveDict",
    "Cookie",
    "CurlWrapper",
    "Request",
    "RequestError",
    "Response",
    "Session",
    "_CaseInsensitiveDict",
    "_Cookie",
    "_Response",
    "parse_cookie_string",
    "session_cookie_for_url",
]
