"""`--logging-webhook` / MITE_LOGGING_URL: the controller POSTs the test's start (and gets an id)
before handing out work, and its end with that id after the last runner said bye."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from distsupport import Control, free_address, write_scenario


class _Hook(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):
        pass

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])) or b"null")
        self.server.calls.append((self.path, body))
        if self.path.endswith("/start"):
            out = json.dumps({"newid": 42}).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)
        else:
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()


@pytest.fixture
def hook():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
    server.calls = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()


@pytest.mark.parametrize("via", ["option", "environment"])
def test_start_and_end_are_logged(deployment, target, hook, via):
    url = f"http://127.0.0.1:{hook.server_address[1]}/tests"
    spec = write_scenario(deployment, target.url, duration=1, concurrency=1)
    message = free_address()
    pull = deployment.pull_bind(message)
    if via == "option":
        control = Control(deployment, spec, message, runners=("ours",), controller_args=(f"--logging-webhook={url}",))
    else:
        deployment_env = {"MITE_LOGGING_URL": url}
        control = Control(deployment, spec, message, runners=(), start=False)
        control.controller = deployment.start(
            "controller", spec, f"--message-socket={message}", f"--controller-socket={control.address}",
            env=deployment_env,
        )
        control.runner_impls = ("ours",)
        control.start_runners()
    control.wait_finished(timeout=60)
    pull.drain_raw(quiet=0.3)
    assert hook.calls == [("/tests/start", {"testname": spec}), ("/tests/end", {"id": 42})]
