"""`--spawn-rate` holds: journeys start at the asked rate in every 2 s window, against nginx.

mite 2.11 divided the rate by the runners' request rate, so starts swung between bursts and
near-idle (or, with journeys of a few milliseconds, ran at several times the asked rate): this
test fails for it (`MITE_UNDER_TEST=~/.cache/mite-ref-venv/bin/mite`).
"""

import shutil
import socket
import subprocess
from collections import Counter

import pytest

from helpers import clean_env, collected, of_type, run_mite, wait_for, write_module

RATE = 100  # journeys per second asked for
SECONDS = 8  # the volume model's length
WINDOW = 2.0

NGINX_CONF = """
worker_processes 1;
daemon off;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    server {{
        listen 127.0.0.1:{port};
        location / {{ default_type text/plain; return 200 "ok"; }}
    }}
}}
"""


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _accepts(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


@pytest.fixture
def nginx(tmp_path):
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    assert shutil.which(binary), "nginx (Debian package) is not installed"
    folder = tmp_path / "nginx"
    folder.mkdir()
    port = _free_port()
    conf = folder / "nginx.conf"
    conf.write_text(NGINX_CONF.format(dir=folder, port=port))
    proc = subprocess.Popen([binary, "-c", str(conf), "-p", str(folder)], stderr=subprocess.PIPE)
    try:
        wait_for(lambda: _accepts(port) or proc.poll() is not None)
        assert proc.poll() is None, proc.stderr.read()
        yield f"http://127.0.0.1:{port}/"
    finally:
        proc.terminate()
        proc.wait(10)


SCENARIO = """
    import asyncio

    from mite.scenario import StopVolumeModel
    from mite_http import mite_http

    @mite_http
    async def get(ctx):
        async with ctx.transaction("get"):
            await ctx.http.get({url!r})
        await asyncio.sleep(0.01)  # think time

    def volume(start, end):
        if start >= {seconds}:
            raise StopVolumeModel
        return 1000

    def scenario():
        return [["closed:get", None, volume]]
"""


def test_journeys_start_at_the_spawn_rate_in_every_window(tmp_path, nginx):
    write_module(tmp_path, "closed", SCENARIO.format(url=nginx, seconds=SECONDS))
    proc = run_mite(
        ["scenario", "test", "closed:scenario", f"--spawn-rate={RATE}", "--hide-constant-logs"],
        tmp_path,
        env=clean_env(PYTHONPATH=str(tmp_path)),
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    roots = [m for m in of_type(collected(tmp_path), "txn") if m["transaction"] == "__root__"]
    assert roots, proc.stderr[-3000:]
    starts = sorted(m["start_time"] for m in roots)
    first = starts[0]
    per_window = Counter(int((t - first) // WINDOW) for t in starts)
    # Whole windows after the first (which holds the initial burst of one period's worth), while
    # the volume model asked for 1000 running journeys of some milliseconds each: the spawn
    # rate, not the volume, decides how many start. mite 2.11 here: e.g. 834 / 166 / 0 / 837.
    whole = [per_window.get(i, 0) / WINDOW for i in range(1, int(SECONDS // WINDOW) - 1)]
    assert len(whole) >= 2
    assert all(0.5 * RATE <= rate <= 1.5 * RATE for rate in whole), (whole, per_window)
    assert 0.85 * RATE <= sum(whole) / len(whole) <= 1.15 * RATE, whole
