"""mite 2.11's `mite.web`: `prometheus_metrics` (a `PrometheusMetrics`), `app`, a small WSGI
application serving its text at `/metrics`, and `influx_metrics()`. `mite prometheus_exporter`
itself is native; this is for code that feeds and serves stats dumps from Python."""

import importlib
import logging
import socket
import socketserver
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from .prometheus import PrometheusMetrics

__all__ = [
    "app",
    "metrics",
    "prometheus_metrics",
    "MetricsApp",
    "PrometheusMetrics",
    "InfluxMetrics",
    "influx_metrics",
]

logger = logging.getLogger(__name__)

prometheus_metrics = PrometheusMetrics()


def influx_metrics(include_buckets=False):
    """A new `InfluxMetrics` (stats dumps to InfluxDB points), as mite 2.11's `mite.web` made."""
    return __getattr__("InfluxMetrics")(include_buckets=include_buckets)


def __getattr__(name):
    # The InfluxDB code is loaded only when asked for: most users of mite.web never need it.
    if name in ("influxdb", "InfluxMetrics"):
        module = importlib.import_module(".influxdb", __name__)
        return module if name == "influxdb" else module.InfluxMetrics
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def metrics():
    """The `/metrics` body: every stat folded into `prometheus_metrics` so far."""
    return prometheus_metrics.format()


class _ThreadingServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _ThreadingServer6(_ThreadingServer):
    address_family = socket.AF_INET6


class _QuietHandler(WSGIRequestHandler):
    # One line per scrape (every second or so) drowns the log; mite 2.11 meant to hide it too.
    def log_message(self, format, *args):
        logger.debug("%s - %s", self.address_string(), format % args)


class MetricsApp:
    """A WSGI application: `GET /metrics` answers `metrics()` as text/plain, anything else 404
    (405 for other methods), as mite 2.11's Flask app did. `run(host, port)` serves it."""

    def __init__(self, body=metrics):
        self._body = body

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO") != "/metrics":
            return self._plain(start_response, "404 NOT FOUND", b"Not Found\n")
        if environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
            return self._plain(start_response, "405 METHOD NOT ALLOWED", b"Method Not Allowed\n")
        return self._plain(start_response, "200 OK", self._body().encode("utf-8"))

    @staticmethod
    def _plain(start_response, status, body):
        headers = [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))]
        start_response(status, headers)
        return [body]

    def make_server(self, host="127.0.0.1", port=5000):
        """A server bound to (host, port), not yet serving; port 0 picks a free one."""
        server_class = _ThreadingServer6 if ":" in host else _ThreadingServer
        return make_server(host, port, self, server_class=server_class, handler_class=_QuietHandler)

    def run(self, host="127.0.0.1", port=5000, **_ignored):
        """Serves until interrupted (Flask's `app.run(host=..., port=...)` call shape)."""
        with self.make_server(host, port) as server:
            server.serve_forever()


app = MetricsApp()
