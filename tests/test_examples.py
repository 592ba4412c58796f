"""Every scenario in examples/ runs as its docstring (and the README's `make demo`) says."""

import shutil
import socket
import subprocess
import sys
from pathlib import Path

from helpers import clean_env, collected, of_type, run_mite

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

HTTP_METRICS_ORDER = [
    "start_time", "effective_url", "response_code", "dns_time", "connect_time", "tls_time",
    "transfer_start_time", "first_byte_time", "total_time", "primary_ip", "method",
    "download_size", "type", "time", "test", "runner_id", "journey", "context_id", "scenario_id",
    "scenario_data_id", "transaction", "transaction_id",
]  # fmt: skip


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_http_example_runs_against_its_target(tmp_path):
    shutil.copy(EXAMPLES / "http_example.py", tmp_path)
    port = free_port()
    target = subprocess.Popen(
        [sys.executable, str(EXAMPLES / "target_server.py"), str(port)], stdout=subprocess.PIPE
    )
    try:
        assert target.stdout.readline().startswith(b"target listening")
        env = clean_env(MITE_CONF_target=f"http://127.0.0.1:{port}")
        proc = run_mite(["scenario", "test", "http_example:scenario", "--report"], tmp_path, env, 120)
    finally:
        target.terminate()
        target.wait()
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "MITE Benchmark Report" in proc.stdout
    metrics = of_type(collected(tmp_path), "http_metrics")
    assert len(metrics) > 100
    assert {m["method"] for m in metrics} == {b"GET", b"POST"}
    assert {m["response_code"] for m in metrics} == {200, 201}
    assert list(metrics[0]) == HTTP_METRICS_ORDER
    assert isinstance(metrics[0]["start_time"], int) and isinstance(metrics[0]["download_size"], float)
    assert {m["transaction"] for m in metrics} == {"__root__ :: browse", "__root__ :: add to basket"}
    # The report counts exactly the requests the collector holds.
    assert f"{len(metrics)} requests in" in proc.stdout


def test_every_example_is_run_by_a_test():
    # Each example's file name appears in a test that copies and runs it (or, for a helper file
    # such as target_server.py or a .thrift definition, one that uses it).
    tests = Path(__file__).resolve().parent
    sources = "\n".join(p.read_text() for p in tests.rglob("*.py"))
    unused = sorted(p.name for p in EXAMPLES.iterdir() if p.is_file() and p.name not in sources)
    assert unused == []
