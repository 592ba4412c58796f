"""A private RabbitMQ broker for the AMQP tests (its own node name, ports, data dir and epmd on
loopback, one per test session), and a TCP relay that makes that broker vanish on demand."""

import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

RABBITMQ_BIN = Path("/usr/lib/rabbitmq/bin")
START_TIMEOUT = 120
AMQP_HEADER = b"AMQP\x00\x00\x09\x01"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _amqp_answers(port):
    """True once the broker answers the AMQP 0-9-1 header with a method frame (Connection.Start):
    it opens its listener last, so this means the broker is ready."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
            s.sendall(AMQP_HEADER)
            return s.recv(1) == b"\x01"
    except OSError:
        return False


class Broker:
    """`rabbitmq-server` run as root from Debian's package, isolated from any system instance."""

    def __init__(self, root):
        self.root = Path(root)
        self.port = free_port()
        self.node = f"mitetest{os.getpid()}x{self.port}@localhost"
        self.url = f"amqp://guest:guest@127.0.0.1:{self.port}/"
        self.epmd_port = free_port()
        self.env = self._environment()
        self.epmd = None
        self.proc = None

    def _environment(self):
        (self.root / "enabled_plugins").write_text("[].\n")
        (self.root / "rabbitmq.conf").write_text("")
        (self.root / "rabbitmq-env.conf").write_text("")
        env = dict(os.environ)
        env.update(
            HOME=str(self.root),  # the Erlang cookie shared by the node and rabbitmqctl
            RABBITMQ_NODENAME=self.node,
            RABBITMQ_NODE_IP_ADDRESS="127.0.0.1",
            RABBITMQ_NODE_PORT=str(self.port),
            RABBITMQ_DIST_PORT=str(free_port()),
            RABBITMQ_CTL_DIST_PORT_MIN=str(free_port()),
            RABBITMQ_MNESIA_BASE=str(self.root / "mnesia"),
            RABBITMQ_LOG_BASE=str(self.root / "log"),
            RABBITMQ_PID_FILE=str(self.root / "rabbit.pid"),
            RABBITMQ_ENABLED_PLUGINS_FILE=str(self.root / "enabled_plugins"),
            RABBITMQ_CONFIG_FILE=str(self.root / "rabbitmq.conf"),
            RABBITMQ_CONF_ENV_FILE=str(self.root / "rabbitmq-env.conf"),
            RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}",
            ERL_EPMD_PORT=str(self.epmd_port),
        )
        env["RABBITMQ_CTL_DIST_PORT_MAX"] = env["RABBITMQ_CTL_DIST_PORT_MIN"]
        return env

    def start(self):
        server = RABBITMQ_BIN / "rabbitmq-server"
        if not server.exists() or not shutil.which("epmd"):
            pytest.fail("rabbitmq-server is missing: apt-get install -y rabbitmq-server")
        # Our own epmd, so that nothing outlives the session (the node would spawn a daemon).
        self.epmd = subprocess.Popen(
            ["epmd", "-port", str(self.epmd_port), "-address", "127.0.0.1"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        log = open(self.root / "server.out", "wb")  # noqa: SIM115 - kept for the process's life
        self.proc = subprocess.Popen(
            [str(server)],
            env=self.env,
            cwd=self.root,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + START_TIMEOUT
        while not _amqp_answers(self.port):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                tail = (self.root / "server.out").read_text(errors="replace")[-3000:]
                self.stop()
                pytest.fail(f"rabbitmq-server did not start on port {self.port}:\n{tail}")
            time.sleep(0.2)
        return self

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            subprocess.run(
                [str(RABBITMQ_BIN / "rabbitmqctl"), "-n", self.node, "stop"],
                env=self.env,
                capture_output=True,
                timeout=60,
            )
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        if self.epmd is not None and self.epmd.poll() is None:
            self.epmd.kill()
            self.epmd.wait()


@pytest.fixture(scope="session")
def broker(tmp_path_factory):
    b = Broker(tmp_path_factory.mktemp("rabbitmq")).start()
    yield b
    b.stop()


def _method_frames(buffer):
    """Yields (class_id, method_id) of each whole AMQP method frame at the start of `buffer`
    (a bytearray, consumed as it is read)."""
    while len(buffer) >= 7:
        size = int.from_bytes(buffer[3:7], "big")
        if len(buffer) < 8 + size:
            return
        frame_type, payload = buffer[0], bytes(buffer[7 : 7 + size])
        del buffer[: 8 + size]
        if frame_type == 1 and size >= 4:
            yield int.from_bytes(payload[:2], "big"), int.from_bytes(payload[2:4], "big")


BASIC_PUBLISH = (60, 40)


class VanishingRelay:
    """Relays loopback TCP to the broker. From its `survivors`+1-th connection on, the broker
    "vanishes": that connection is cut when its client sends Basic.Publish, and the relay stops
    listening, so later connections are refused."""

    def __init__(self, target_port, survivors):
        self.target_port = target_port
        self.survivors = survivors
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.accepted = 0
        self.cut = threading.Event()
        self._sockets = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return  # closed: the broker has vanished
            self.accepted += 1
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            self._sockets += [client, upstream]
            doomed = self.accepted > self.survivors
            threading.Thread(
                target=self._pump, args=(client, upstream, doomed), daemon=True
            ).start()
            threading.Thread(target=self._pump, args=(upstream, client, False), daemon=True).start()

    def _pump(self, src, dst, watch_publish):
        buffer = bytearray()
        header_seen = False
        try:
            while data := src.recv(65536):
                if watch_publish:
                    buffer += data
                    if not header_seen and len(buffer) >= len(AMQP_HEADER):
                        del buffer[: len(AMQP_HEADER)]
                        header_seen = True
                    if header_seen and BASIC_PUBLISH in _method_frames(buffer):
                        self.vanish()
                        return
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def vanish(self):
        """Refuses new connections and resets the open ones, as a crashed broker would."""
        self.cut.set()
        try:
            self.listener.shutdown(socket.SHUT_RDWR)  # wakes the accepting thread at once
        except OSError:
            pass
        self.listener.close()
        for s in self._sockets:
            try:
                s.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00"
                )
                s.close()
            except OSError:
                pass

    def close(self):
        self.vanish()
