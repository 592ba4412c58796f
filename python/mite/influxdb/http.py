"""The HTTP requests: one POST per batch of lines, and the check made before a run starts."""

import json
import urllib.error
import urllib.request

__all__ = ["WriteError", "post", "check", "TIMEOUT"]

# influxdb-client's and influxdb3-python's default request timeout.
TIMEOUT = 10.0
# How much of an error body goes into a log line.
_ERROR_TEXT = 200

# Proxies from the environment are ignored: InfluxDB is usually a direct peer, and mite 2.11's
# clients (urllib3) did not read them either.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class WriteError(Exception):
    """A write that failed; `retry` says whether sending the same lines later may succeed."""

    def __init__(self, message, retry, status=None):
        super().__init__(message)
        self.retry = retry
        self.status = status


def _server_message(body):
    text = body.decode("utf-8", "replace").strip()
    try:
        doc = json.loads(text)
    except ValueError:
        return text[:_ERROR_TEXT]
    if isinstance(doc, dict):
        # 1.x answers {"error": ...}, 2.x and 3.x {"code": ..., "message": ...}.
        return str(doc.get("error") or doc.get("message") or text)[:_ERROR_TEXT]
    return text[:_ERROR_TEXT]


def post(destination, body, timeout=TIMEOUT):
    """Sends `body` to the destination's write endpoint; raises WriteError on any failure."""
    request = urllib.request.Request(
        destination.write_url, data=body, headers=destination.headers, method="POST"
    )
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            response.read()
    except urllib.error.HTTPError as e:
        message = _server_message(e.read() or b"")
        # 400 and 413 reject the lines themselves; sending them again cannot succeed. Anything
        # else (auth, missing database, server errors) may be fixed while the points wait.
        retry = e.code not in (400, 413)
        raise WriteError(f"HTTP {e.code}: {message or e.reason}", retry, e.code) from None
    except urllib.error.URLError as e:
        raise WriteError(f"cannot connect: {e.reason}", True) from None
    except OSError as e:
        raise WriteError(f"{type(e).__name__}: {e}", True) from None


def check(destination, timeout=TIMEOUT):
    """Sends an empty write, which every InfluxDB answers without storing anything: it shows a
    server that cannot be reached, and for 1.x bad credentials, database or retention policy.
    Returns None when the destination looks usable, else one line saying why not."""
    where = f"InfluxDB at {destination.address} ({destination.host_setting})"
    try:
        post(destination, b"", timeout)
    except WriteError as e:
        if e.status is None:
            return f"{where} is unreachable: {e}"
        # 2.x and 3.x may refuse an empty body with 400; only refusals of the credentials or
        # of the bucket/database stop the run there. 1.x accepts an empty write when all is well.
        if e.status in (401, 403, 404) or (destination.version == 1 and e.status != 400):
            return f"{where} refused the write: {e}"
    return None
