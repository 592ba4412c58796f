"""The `INFLUXDB_*` settings of one write destination (suffix "" or "_2", "_3"...), checked up front."""

import base64
import os
import re
from dataclasses import dataclass, field
from urllib.parse import quote, urlsplit

from .. import __version__
from ..exceptions import InfluxConfigError

__all__ = ["Destination", "destination", "suffix_for"]

# mite 2.11 reads INFLUXDB_VERSION through packaging's Version and uses its major part; "v3" is
# its default. This accepts the same spellings people write: v1, 1, 1.8, 2.7.4, V3.
_VERSION = re.compile(r"^[vV]?(\d+)(\.\d+)*([._-]?[A-Za-z]+\d*)*(\+[A-Za-z0-9.]+)?$")

# What each major version needs (mite 2.11's checks), in the order they are named in errors.
_NEEDS = {
    1: ("HOST", "USERNAME", "PASSWORD", "DATABASE"),
    2: ("HOST", "TOKEN", "BUCKET", "ORG"),
    3: ("HOST", "TOKEN", "DATABASE"),
}


@dataclass(frozen=True)
class Destination:
    """Where and how to write: `write_url` with its query, the request `headers`, and `address`
    (scheme, host, port, path: no secrets) for log lines and errors."""

    suffix: str
    version: int
    address: str
    write_url: str
    ping_url: str
    headers: dict = field(repr=False)

    @property
    def host_setting(self):
        return f"INFLUXDB_HOST{self.suffix}"


def suffix_for(index):
    """`--influxdb=N` numbers destinations from 0: "" for the first, then "_2", "_3"..."""
    return "" if index == 0 else f"_{index + 1}"


def _major(suffix, environ):
    name = f"INFLUXDB_VERSION{suffix}"
    raw = environ.get(name, "v3")
    match = _VERSION.match(raw.strip())
    if match is None:
        raise InfluxConfigError(
            f"{name} must be an InfluxDB version such as v1, v2 or v3, got {raw!r}"
        )
    major = int(match.group(1))
    if major not in _NEEDS:
        raise InfluxConfigError(f"{name}={raw}: InfluxDB {major} is not supported (v1, v2 or v3)")
    return major


def _read(suffix, major, environ):
    names = [f"INFLUXDB_{key}{suffix}" for key in _NEEDS[major]]
    values = {key: environ.get(name, "") for key, name in zip(_NEEDS[major], names, strict=True)}
    missing = [name for key, name in zip(_NEEDS[major], names, strict=True) if not values[key]]
    if missing:
        verb = "is" if len(missing) == 1 else "are"
        raise InfluxConfigError(
            f"{', '.join(missing)} {verb} not set (InfluxDB v{major} output needs {', '.join(names)})"
        )
    return values


def _split_host(suffix, raw, default_scheme):
    name = f"INFLUXDB_HOST{suffix}"
    text = raw.strip()
    if "://" not in text:
        text = f"{default_scheme}://{text}"
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        parts, port = None, None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname or parts.query:
        raise InfluxConfigError(
            f"{name} must be an http(s) URL such as http://localhost:8086, got {raw!r}"
        )
    return parts, port


def _base_v1_v2(suffix, raw):
    # influxdb-client (mite 2.11's v1/v2 client) takes the URL as given: no scheme means http,
    # a path prefix is kept and the API path appended to it.
    parts, port = _split_host(suffix, raw, "http")
    return f"{parts.scheme}://{_netloc(parts.hostname, port)}{parts.path.rstrip('/')}"


def _base_v3(suffix, raw):
    # influxdb3-python (mite 2.11's v3 client) keeps only scheme, host and port: no scheme means
    # https on 443. NOTE: it also puts 443 on an explicit http:// without a port; here a
    # scheme given without a port gets that scheme's own port.
    parts, port = _split_host(suffix, raw, "https")
    if port is None:
        port = 80 if parts.scheme == "http" else 443
    return f"{parts.scheme}://{_netloc(parts.hostname, port)}"


def _netloc(hostname, port):
    # Rebuilt from host and port: any user:password@ in the setting stays out of log lines.
    host = f"[{hostname}]" if ":" in hostname else hostname
    return host if port is None else f"{host}:{port}"


def _headers(authorization):
    return {
        "Authorization": authorization,
        "Content-Type": "text/plain; charset=utf-8",
        "Accept": "application/json",
        "User-Agent": f"mite/{__version__}",
    }


def destination(suffix="", environ=None):
    """The destination for `suffix`, or InfluxConfigError naming the setting that is wrong."""
    environ = os.environ if environ is None else environ
    major = _major(suffix, environ)
    values = _read(suffix, major, environ)
    if major == 1:
        base = _base_v1_v2(suffix, values["HOST"])
        rp = environ.get(f"INFLUXDB_RETENTION_POLICY{suffix}") or "autogen"
        # NOTE: mite 2.11 writes v1 through /api/v2/write (InfluxDB >= 1.8 only); /write is
        # served by every 1.x, with the same database, retention policy and precision.
        query = f"db={quote(values['DATABASE'], safe='')}&rp={quote(rp, safe='')}&precision=ns"
        credentials = f"{values['USERNAME']}:{values['PASSWORD']}".encode()
        headers = _headers("Basic " + base64.b64encode(credentials).decode("ascii"))
        write_url = f"{base}/write?{query}"
    elif major == 2:
        base = _base_v1_v2(suffix, values["HOST"])
        query = f"org={quote(values['ORG'], safe='')}&bucket={quote(values['BUCKET'], safe='')}&precision=ns"
        headers = _headers(f"Token {values['TOKEN']}")
        write_url = f"{base}/api/v2/write?{query}"
    else:
        base = _base_v3(suffix, values["HOST"])
        # influxdb3-python writes through the v2-compatible endpoint with org "default".
        query = f"org=default&bucket={quote(values['DATABASE'], safe='')}&precision=ns"
        headers = _headers(f"Token {values['TOKEN']}")
        write_url = f"{base}/api/v2/write?{query}"
    return Destination(
        suffix=suffix,
        version=major,
        address=base,
        write_url=write_url,
        ping_url=f"{base}/ping",
        headers=headers,
    )
