"""Real servers for the datapool tests: moto's S3 server and a throwaway PostgreSQL cluster."""

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

PG_BIN = Path("/usr/lib/postgresql/15/bin")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"{what} did not come up within {timeout} s")


class MotoS3:
    """`moto_server` in its own process on a free loopback port."""

    def __init__(self):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        moto_server = Path(sys.executable).with_name("moto_server")
        self.proc = subprocess.Popen(
            [str(moto_server), "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

        def up():
            assert self.proc.poll() is None, "moto_server exited"
            try:
                urllib.request.urlopen(self.url + "/moto-api/", timeout=1)
                return True
            except OSError:
                return False

        wait_until(up, 30, "moto_server")

    def env(self):
        """What boto3 needs to talk to this server (and nothing from the caller's AWS setup)."""
        return {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ENDPOINT_URL_S3": self.url,
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        }

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)


class Postgres:
    """A PostgreSQL 15 cluster in a temporary folder, on a free loopback port, trust auth."""

    def __init__(self):
        if not (PG_BIN / "initdb").exists():
            raise AssertionError("PostgreSQL 15 is not installed (make test-deps installs it)")
        self.dir = tempfile.mkdtemp(prefix="mite-pg-")
        self.port = free_port()
        # initdb refuses to run as root: the cluster belongs to the `postgres` user then.
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.as_user:
            shutil.chown(self.dir, "postgres", "postgres")
        data = f"{self.dir}/data"
        self._run([PG_BIN / "initdb", "-D", data, "-A", "trust", "-U", "mite", "--no-sync"])
        opts = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run([PG_BIN / "pg_ctl", "-D", data, "-o", opts, "-l", f"{self.dir}/log", "-w", "start"])
        self.url = f"postgresql+psycopg://mite@127.0.0.1:{self.port}/postgres"

    def _run(self, argv):
        subprocess.run(
            [*self.as_user, *map(str, argv)], check=True, capture_output=True, timeout=120
        )

    def stop(self):
        self._run([PG_BIN / "pg_ctl", "-D", f"{self.dir}/data", "-m", "immediate", "-w", "stop"])
        shutil.rmtree(self.dir, ignore_errors=True)
