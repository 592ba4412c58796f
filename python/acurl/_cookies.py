"""Cookies: what a user gives (`Cookie`) and libcurl's cookie-file lines (`_Cookie`)."""

import time
from urllib.parse import urlparse


class Cookie:
    """A cookie to send: `session.get(url, cookies={"k": Cookie(domain, name, value)})`."""

    __slots__ = ("domain", "name", "value")

    def __init__(self, domain, name, value):
        self.domain = domain
        self.name = name
        self.value = value

    def __repr__(self):
        return f"Cookie({self.domain!r}, {self.name!r}, {self.value!r})"


class _Cookie:
    """One line of libcurl's (Netscape) cookie jar."""

    __slots__ = ("http_only", "domain", "include_subdomains", "path", "is_secure", "expiration", "name", "value")

    def __init__(self, http_only, domain, include_subdomains, path, is_secure, expiration, name, value):
        self.http_only = http_only
        self.domain = domain
        self.include_subdomains = include_subdomains
        self.path = path
        self.is_secure = is_secure
        self.expiration = expiration
        self.name = name
        self.value = value

    @property
    def has_expired(self):
        return self.expiration != 0 and time.time() > self.expiration

    def format(self):
        """The cookie-file line libcurl reads (tab-separated, `#HttpOnly_` prefix when set)."""
        fields = (
            ("#HttpOnly_" if self.http_only else "") + self.domain,
            "TRUE" if self.include_subdomains else "FALSE",
            self.path,
            "TRUE" if self.is_secure else "FALSE",
            str(self.expiration),
            self.name,
            self.value,
        )
        return "\t".join(fields).encode()


def session_cookie_for_url(url, name, value, http_only=False, include_subdomains=True, is_secure=False, include_url_path=False):
    """The jar line for a `cookies=` entry of a request to `url`."""
    parts = urlparse(url)
    path = parts.path if include_url_path else "/"
    if isinstance(value, Cookie):
        domain, name, value = value.domain, value.name, value.value
    elif isinstance(value, str):
        domain = "." + parts.netloc.split(":")[0]
    else:
        raise ValueError("cookie value must be string or Cookie class")
    return _Cookie(http_only, domain, include_subdomains, path, is_secure, 0, name, value)


def parse_cookie_string(line):
    """Reads one cookie-file line back (a missing value is an empty one)."""
    line = line.strip()
    http_only = line.startswith("#HttpOnly_")
    if http_only:
        line = line[len("#HttpOnly_") :]
    parts = line.split("\t")
    if len(parts) == 6:
        parts.append("")
    domain, subdomains, path, secure, expiration, name, value = parts[:7]
    return _Cookie(http_only, domain, subdomains == "TRUE", path, secure == "TRUE", int(expiration), name, value)


def cookie_dict(cookies):
    """name -> value, later entries winning, as acurl's cookie dicts."""
    return {c.name: c.value for c in cookies}
