"""Loopback HTTP targets for the HTTP-layer tests: a plain and a TLS server (standard library only)
and an HTTP/2 server (nginx).

Every server binds 127.0.0.1 on an ephemeral port, counts the TCP connections it accepts (to prove
keep-alive reuse) and records the requests it served (method, path, headers, body) so a test can
check what went over the wire, not only what the client says it sent.
"""

import base64
import gzip
import json
import os
import shutil
import socket
import ssl
import subprocess
import threading
import time
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import brotli  # a test dependency (serves br); its absence is an installation bug


def _zstd_compress(data):
    # The zstd command (Debian package zstd): no Python zstd module is a test dependency.
    return subprocess.run(["zstd", "-q", "-c"], input=data, capture_output=True, check=True).stdout


BIG_SIZE = 10 * 1024 * 1024
# The big body avoids NUL bytes: acurl 1.2.1 copies each received block with strndup, so a NUL
# truncates the copy (see /binary, which has them).
_PATTERN = bytes(range(1, 256)) * 257  # 65535 bytes, 1..255 repeating
BINARY_BODY = bytes(range(256)) * 4  # 1 KiB holding every byte value, NULs included


def big_body(size):
    """The body /big?size=N serves: a repeating 1..255 byte pattern, cut to `size` bytes."""
    whole, rest = divmod(size, len(_PATTERN))
    return _PATTERN * whole + _PATTERN[:rest]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, Content-Length or chunked framing
    server_version = "mite-test-target/1"

    def log_message(self, format, *args):  # keep pytest output clean
        pass

    def setup(self):
        super().setup()
        if isinstance(self.request, ssl.SSLSocket):
            self.request.do_handshake()

    # -- request plumbing --------------------------------------------------------------------

    def _read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            parts = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(parts)
                parts.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _dispatch(self):
        split = urlsplit(self.path)
        self.route = split.path
        self.query = dict(parse_qsl(split.query, keep_blank_values=True))
        self.body = self._read_body()
        self.server.record(self)
        parts = [p for p in split.path.split("/") if p]
        name = parts[0] if parts else "root"
        handler = getattr(self, "ep_" + name.replace("-", "_"), None)
        if handler is None:
            self._send(404, b"no such endpoint\n", "text/plain")
        else:
            handler(parts[1:])

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = _dispatch

    def _send(self, status, body=b"", content_type="application/octet-stream", headers=()):
        self.send_response(status)
        if content_type is not None:
            self.send_header("Content-Type", content_type)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD" and body:
            self.wfile.write(body)

    def _send_json(self, obj, status=200, headers=()):
        self._send(status, json.dumps(obj).encode(), "application/json", headers)

    def _cookies(self):
        jar = {}
        for header in self.headers.get_all("Cookie") or ():
            for part in header.split(";"):
                name, _, value = part.strip().partition("=")
                if name:
                    jar[name] = value
        return jar

    def _echo(self):
        return {
            "method": self.command,
            "path": self.path,
            "query": self.query,
            "http_version": self.request_version,
            "headers": [[k, v] for k, v in self.headers.items()],
            "body": self.body.decode("latin-1"),
            "body_length": len(self.body),
            "cookies": self._cookies(),
            "client_cert": self._client_cert(),
        }

    def _client_cert(self):
        """The subject common name of the TLS client certificate, if one was presented."""
        if not isinstance(self.request, ssl.SSLSocket):
            return None
        cert = self.request.getpeercert()
        if not cert:
            return None
        return dict(pair[0] for pair in cert["subject"]).get("commonName", "?")

    # -- endpoints (`/name/...` is served by `ep_name`) ----------------------------------------

    def ep_root(self, _):
        self._send(200, b"mite test target\n", "text/plain")

    def ep_echo(self, _):
        """The request as the server saw it, as JSON (see `_echo`)."""
        self._send_json(self._echo())

    def ep_status(self, parts):
        code = int(parts[0])
        body = b"" if code in (204, 304) or code < 200 else f"status {code}\n".encode()
        self._send(code, body, "text/plain")

    def ep_redirect(self, parts):
        """`/redirect/CODE?to=URL`: a CODE response with `Location: URL` (default /echo)."""
        code = int(parts[0])
        self._send(
            code, b"redirecting\n", "text/plain", [("Location", self.query.get("to", "/echo"))]
        )

    def ep_chain(self, parts):
        """`/chain/N`: N 302 hops (`/chain/N-1` ...) before a 200."""
        left = int(parts[0])
        if left <= 0:
            self._send_json({"chain": "done", "method": self.command})
        else:
            self._send(302, b"", "text/plain", [("Location", f"/chain/{left - 1}")])

    def ep_loop(self, _):
        """A redirect to itself, for ever."""
        self._send(302, b"", "text/plain", [("Location", "/loop")])

    def ep_cookies(self, parts):
        """`/cookies/set?a=1&b=2` sets one cookie per parameter; `/cookies/set-redirect?...` sets
        them on a 302 to /echo; `/cookies/delete?a` expires them; `/cookies` echoes the jar."""
        action = parts[0] if parts else ""
        if action in ("set", "set-redirect"):
            headers = [("Set-Cookie", f"{k}={v}; Path=/") for k, v in self.query.items()]
            if action == "set-redirect":
                self._send(302, b"", "text/plain", [*headers, ("Location", "/echo")])
            else:
                self._send_json({"set": self.query}, headers=headers)
        elif action == "delete":
            headers = [
                ("Set-Cookie", f"{k}=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT")
                for k in self.query
            ]
            self._send_json({"deleted": list(self.query)}, headers=headers)
        else:
            self._send_json({"cookies": self._cookies()})

    def _compressed(self, name, compress):
        payload = {
            "encoding": name,
            "accept_encoding": self.headers.get("Accept-Encoding"),
            "filler": "compressible " * 64,  # so the compressed size differs from the decoded one
        }
        body = compress(json.dumps(payload).encode())
        self._send(200, body, "application/json", [("Content-Encoding", name)])

    def ep_gzip(self, _):
        self._compressed("gzip", gzip.compress)

    def ep_deflate(self, _):
        self._compressed("deflate", zlib.compress)  # HTTP "deflate" is the zlib format

    def ep_br(self, _):
        self._compressed("br", brotli.compress)

    def ep_zstd(self, _):
        self._compressed("zstd", _zstd_compress)

    def ep_undecodable(self, parts):
        """`/undecodable/ENCODING`: says Content-Encoding ENCODING but the body is not that."""
        body = b"this is not compressed at all"
        self._send(200, body, "application/json", [("Content-Encoding", parts[0])])

    def ep_chunked(self, _):
        """`/chunked?n=N`: N chunks `chunk i\\n` with Transfer-Encoding: chunked."""
        count = int(self.query.get("n", 5))
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        if self.command == "HEAD":
            return
        for i in range(count):
            chunk = f"chunk {i}\n".encode()
            self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")

    def ep_big(self, _):
        """`/big?size=N` (default 10 MiB): the `big_body(N)` pattern."""
        size = int(self.query.get("size", BIG_SIZE))
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(size))
        self.end_headers()
        if self.command == "HEAD":
            return
        body = memoryview(big_body(size))
        for start in range(0, size, 1 << 16):
            self.wfile.write(body[start : start + (1 << 16)])

    def ep_slow(self, _):
        """`/slow?ms=N`: waits N ms (default 2000) before answering."""
        time.sleep(int(self.query.get("ms", 2000)) / 1000)
        self._send(200, b"slow done\n", "text/plain")

    def ep_drop(self, _):
        """Promises 100000 bytes, sends 10, then closes the connection."""
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", "100000")
        self.end_headers()
        self.wfile.write(b"0123456789")
        self.wfile.flush()
        self._hang_up()

    def ep_empty_reply(self, _):
        """Closes the connection without answering at all."""
        self._hang_up()

    def _hang_up(self):
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def ep_basic_auth(self, parts):
        """`/basic-auth/USER/PASS`: 200 with the user if the Authorization header matches."""
        expected = "Basic " + base64.b64encode(f"{parts[0]}:{parts[1]}".encode()).decode()
        if self.headers.get("Authorization") == expected:
            self._send_json({"authenticated": True, "user": parts[0]})
        else:
            self._send_json(
                {"authenticated": False}, 401, [("WWW-Authenticate", 'Basic realm="test"')]
            )

    def ep_multi_header(self, _):
        """Two `X-Multi` headers (a, b) and one `X-Single`."""
        headers = [("X-Multi", "a"), ("X-Single", "one"), ("X-Multi", "b")]
        self._send(200, b"multi\n", "text/plain", headers)

    def ep_charset(self, parts):
        """`/charset/NAME`: the text `caf\\u00e9 \\u00fcber` encoded in NAME, labelled so."""
        charset = parts[0]
        self._send(200, "caf\u00e9 \u00fcber".encode(charset), f"text/plain; charset={charset}")

    def ep_binary(self, _):
        """`BINARY_BODY`: every byte value, NULs included."""
        self._send(200, BINARY_BODY, "application/octet-stream")

    def ep_empty(self, _):
        """A 200 with an empty body (Content-Length: 0) and an `X-Empty` marker header."""
        self._send(200, b"", "text/plain", [("X-Empty", "yes")])

    def ep_raw(self, _):
        """Bytes with no Content-Type at all."""
        self._send(200, "caf\u00e9".encode("latin-1"), None)

    def ep_json(self, _):
        self._send_json({"hello": "world", "numbers": [1, 2, 3], "nested": {"ok": True}})


class _CountingServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = False  # ephemeral ports only; no reuse games
    request_queue_size = 128

    def __init__(self):
        self.connections = 0
        self.requests = []
        self._lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _Handler)

    def get_request(self):
        sock, addr = super().get_request()
        # Headers and body go out in separate writes; without NODELAY, Nagle plus the client's
        # delayed ACK adds ~40 ms to every keep-alive response.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self._lock:
            self.connections += 1
        return sock, addr

    def record(self, handler):
        entry = {
            "method": handler.command,
            "path": handler.path,
            "headers": list(handler.headers.items()),
            "body": handler.body,
            "client_port": handler.client_address[1],
        }
        with self._lock:
            self.requests.append(entry)


class _TLSCountingServer(_CountingServer):
    def __init__(self, certfile, keyfile):
        super().__init__()
        self.ssl_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ssl_context.load_cert_chain(certfile, keyfile)
        # Client certificates are asked for, not required; one signed by (i.e. equal to) our
        # self-signed certificate is reported by /echo as `client_cert`.
        self.ssl_context.load_verify_locations(certfile)
        self.ssl_context.verify_mode = ssl.CERT_OPTIONAL
        self.ssl_context.set_alpn_protocols(["http/1.1"])

    def get_request(self):
        sock, addr = super().get_request()
        # The handshake runs in the handler thread (`_Handler.setup`), not in the accept loop.
        return self.ssl_context.wrap_socket(
            sock, server_side=True, do_handshake_on_connect=False
        ), addr


class TestServer:
    """A running loopback server: `url(path)`, `connections`, `requests`, `stop()`."""

    __test__ = False  # not a pytest test class

    def __init__(self, tls=None):
        self.scheme = "https" if tls else "http"
        self._server = _TLSCountingServer(*tls) if tls else _CountingServer()
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def url(self, path="/"):
        return f"{self.scheme}://127.0.0.1:{self.port}{path}"

    @property
    def connections(self):
        return self._server.connections

    @property
    def requests(self):
        with self._server._lock:
            return list(self._server.requests)

    def requests_to(self, prefix):
        return [r for r in self.requests if r["path"].startswith(prefix)]

    def stop(self):
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)


# -- certificates ------------------------------------------------------------------------------


def make_self_signed_cert(folder):
    """Writes a self-signed certificate for 127.0.0.1/localhost into `folder`; returns
    (certfile, keyfile). Uses the `cryptography` package if importable, else `openssl req`."""
    folder = Path(folder)
    certfile, keyfile = folder / "cert.pem", folder / "key.pem"
    try:
        _cert_with_cryptography(certfile, keyfile)
    except ImportError:
        subprocess.run(
            [
                "openssl",
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "2",
                "-subj",
                "/CN=127.0.0.1",
                "-keyout",
                str(keyfile),
                "-out",
                str(certfile),
                "-addext",
                "subjectAltName=IP:127.0.0.1,DNS:localhost",
            ],
            check=True,
            capture_output=True,
        )
    return str(certfile), str(keyfile)


def _cert_with_cryptography(certfile, keyfile):
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    keyfile.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    certfile.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


# -- HTTP/2 (nginx) ----------------------------------------------------------------------------

NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)

_NGINX_CONF = """\
daemon off;
master_process off;
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    server {{
        listen 127.0.0.1:{port} ssl http2;
        ssl_certificate {cert};
        ssl_certificate_key {key};
        default_type text/plain;
        location = /proto {{
            add_header X-Connection $connection;
            return 200 "$server_protocol $request_method $connection $connection_requests";
        }}
        location / {{ return 200 "h2 target"; }}
    }}
    server {{
        # Cleartext HTTP/2 with prior knowledge only (no upgrade): `http_version="2-prior-knowledge"`.
        listen 127.0.0.1:{h2c_port} http2;
        default_type text/plain;
        location = /proto {{
            return 200 "$server_protocol $request_method $connection $connection_requests";
        }}
    }}
}}
"""


def nginx_supports_http2():
    if not NGINX:
        return False
    out = subprocess.run([NGINX, "-V"], capture_output=True, text=True)
    return "--with-http_v2_module" in out.stderr + out.stdout


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class NginxH2Server:
    """nginx serving HTTPS with HTTP/2 offered by ALPN (and HTTP/1.1 for clients that ask), and
    cleartext HTTP/2 by prior knowledge on `h2c_port`.
    `/proto` answers `"<server protocol> <method> <connection serial> <requests on it>"`."""

    def __init__(self, folder, certfile, keyfile):
        folder = Path(folder)
        self.port = _free_port()
        self.h2c_port = _free_port()
        conf = folder / "nginx.conf"
        conf.write_text(_NGINX_CONF.format(dir=folder, port=self.port, cert=certfile, key=keyfile,
                                           h2c_port=self.h2c_port))
        self._proc = subprocess.Popen(
            [NGINX, "-p", str(folder), "-c", str(conf), "-e", str(folder / "error.log")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 10
        while True:
            if self._proc.poll() is not None:
                raise RuntimeError("nginx exited: " + self._proc.stderr.read().decode())
            try:
                for port in (self.port, self.h2c_port):
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError("nginx did not start listening") from None
                time.sleep(0.05)

    def url(self, path="/"):
        return f"https://127.0.0.1:{self.port}{path}"

    def h2c_url(self, path="/"):
        return f"http://127.0.0.1:{self.h2c_port}{path}"

    def stop(self):
        if self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._proc.stderr.close()
