"""What came back: `Response`, read lazily from the native transfer it wraps."""

import json
import warnings

from ._headers import CaseInsensitiveDefaultDict, CaseInsensitiveDict


class Response:
    __slots__ = ("_raw", "request", "_prev", "_session", "_body")

    def __init__(self, raw, request, session):
        self._raw = raw
        self.request = request
        self._session = session
        self._prev = None
        self._body = None

    def _set_prev(self, prev):
        self._prev = prev

    status_code = property(lambda self: self._raw.status_code)
    url = property(lambda self: self._raw.url)
    redirect_url = property(lambda self: self._raw.redirect_url)
    total_time = property(lambda self: self._raw.total_time)
    namelookup_time = property(lambda self: self._raw.namelookup_time)
    connect_time = property(lambda self: self._raw.connect_time)
    appconnect_time = property(lambda self: self._raw.appconnect_time)
    pretransfer_time = property(lambda self: self._raw.pretransfer_time)
    starttransfer_time = property(lambda self: self._raw.starttransfer_time)
    upload_size = property(lambda self: self._raw.upload_size)
    download_size = property(lambda self: self._raw.download_size)
    primary_ip = property(lambda self: self._raw.primary_ip)
    start_time = property(lambda self: self._raw.start_time)
    header = property(lambda self: self._raw.header)

    @property
    def response_code(self):
        warnings.warn("Deprecated: Please consider using the status_code method instead", DeprecationWarning, stacklevel=2)
        return self._raw.status_code

    @property
    def body(self):
        if self._body is None:
            self._body = self._raw.body
        return self._body

    @property
    def headers_tuple(self):
        return self._raw.headers_tuple()

    @property
    def headers(self):
        grouped = CaseInsensitiveDefaultDict(list)
        for k, *v in self.headers_tuple:
            grouped[k].append(v[0] if v else "")
        # Repeated headers are joined with ", " (Set-Cookie too), as acurl does.
        return CaseInsensitiveDict({k: ", ".join(vs) for k, vs in grouped.items()})

    @property
    def encoding(self):
        content_type = self.headers.get("Content-Type")
        if content_type and "charset=" in content_type:
            return content_type.split("charset=")[-1].split()[0]
        return "latin1"

    @property
    def text(self):
        return self.body.decode(self.encoding)

    def json(self):
        return json.loads(self.body)

    @property
    def cookies(self):
        """The session's whole jar, as acurl reports it."""
        return self._session.cookies()

    @property
    def history(self):
        out = []
        cur = self._prev
        while cur is not None:
            out.append(cur)
            cur = cur._prev
        out.reverse()
        return out

    def __repr__(self):
        return f"<Response [{self.status_code}] {self.url}>"
