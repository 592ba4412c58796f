"""acurl's API (sessions, requests, responses, cookies) over mite's native libcurl engine, for
journeys that use acurl directly; `mite_http` uses the same sessions."""

from mite import _native

from ._cookies import Cookie, _Cookie, parse_cookie_string, session_cookie_for_url
from ._errors import AcurlError, RequestError
from ._headers import CaseInsensitiveDefaultDict, CaseInsensitiveDict, _CaseInsensitiveDict
from ._request import Request
from ._response import Response, _Response
from ._session import CurlWrapper, Session

# The native objects call these; handed over here so that only acurl names mite._native, never
# the other way round (a renamed helper fails on this line, not at the first request).
_native._bind_acurl(
    AcurlError=AcurlError,
    RequestError=RequestError,
    Request=Request,
    CaseInsensitiveDict=CaseInsensitiveDict,
    parse_cookie_string=parse_cookie_string,
    session_cookie_for_url=session_cookie_for_url,
)

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
