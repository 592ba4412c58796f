#!/usr/bin/env python3
"""Runs mite 2.11.0's own test suites, unmodified, against mite 2.11.0 and against this package.

Usage: upstream_tests.py UPSTREAM_CHECKOUT [options]   (see --help)

Two venvs live under the cache dir (default ~/.cache/mite-upstream, reused between runs):
  ref   mite==2.11.0 from the package index + the upstream test tools;
  ours  the same third-party packages at the same versions (ref's `pip freeze` minus mite and
        acurl), plus this package: the live source tree (`--ours dev`, the default: a .pth onto
        python/, whose native module `make dev` builds) or a wheel (`--ours-wheel PATH`, or
        `--ours wheel` to build a debug wheel with maturin).
The upstream suites (test/, acurl/tests/, mite_finagle/tests/) are copied into a temp dir without
the upstream packages beside them, so each venv's installed mite is the one imported.
Reference results are cached by the suite's content (ref never changes); `--rerun-ref` redoes them.
"""

import argparse
import contextlib
import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: the install-gap report is left out
    tomllib = None

PROJECT = Path(__file__).resolve().parent.parent
REF_SPEC = "mite==2.11.0"
# The upstream dev/otel extras (pyproject [dev] and [otel]) plus what the tests import beyond
# mite's own dependencies; pytest-timeout only guards against a hung test on either side.
# Installed in two steps: resolved together with mite's own pins, pip backtracks through
# hundreds of opentelemetry/grpcio versions for many minutes. Only the zipkin JSON exporter
# (what mite.otel imports) is installed: the zipkin meta package adds the protobuf one, whose
# pins pip cannot reconcile with the rest.
TEST_TOOLS = [
    "pytest",
    "pytest-asyncio",
    "pytest-httpserver",
    "pytest-httpbin",
    "pytest-timeout",
    "hypothesis",
    "werkzeug==3.1.3",
    "httpbin>=0.10.2",
]
EXTRA_TOOLS = [
    "opentelemetry-api>=1.20.0",
    "opentelemetry-sdk>=1.20.0",
    "opentelemetry-exporter-otlp-proto-http>=1.20.0",
    "opentelemetry-exporter-otlp-proto-grpc>=1.20.0",
    "opentelemetry-exporter-zipkin-json>=1.20.0",
    "playwright",
    "psutil",
]
# Distributions that are mite itself (this package ships its own acurl).
OURS_DISTS = {"mite", "acurl"}
# (suite name, folder in the checkout, folder name in the temp copy)
SUITES = [
    ("test", "test", "test"),
    ("acurl", "acurl/tests", "acurl_suite/tests"),
    ("finagle", "mite_finagle/tests", "finagle_suite/tests"),
]
EXTENSION_WORDS = (
    "selenium",
    "webdriver",
    "websocket",
    "amqp",
    "kafka",
    "browser",
    "playwright",
    "finagle",
)
# Upstream tests that read private attributes of the controller's trackers, which are native
# here; tests/upstream_equiv checks the same behaviour through the public API.
PRIVATE_ATTRIBUTE_TESTS = {
    "test/test_runner_tracker.py::test_remove_runner",
    "test/test_runner_tracker.py::test_update",
    "test/test_runner_tracker.py::test_update_popleft",
    "test/test_work_tracker.py::test_remove_runner",
    "test/test_work_tracker.py::test_set_actual",
    "test/test_work_tracker.py::test_add_assume",
}
PYTEST_INI = """[pytest]
asyncio_mode = auto
python_files = test_*.py
python_classes = Test*
python_functions = test_*
junit_family = xunit1
markers =
    slow: marks tests as slow
"""


def log(msg):
    print(f"upstream-tests: {msg}", file=sys.stderr, flush=True)


def run(cmd, **kw):
    log("$ " + " ".join(str(c) for c in cmd))
    subprocess.run([str(c) for c in cmd], check=True, **kw)


def pip(venv, *args, **kw):
    run([venv / "bin" / "python", "-m", "pip", "-q", "--disable-pip-version-check", *args], **kw)


@contextlib.contextmanager
def locked(path):
    with open(path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def base_python():
    return getattr(sys, "_base_executable", None) or sys.executable


def make_venv(venv):
    if not (venv / "bin" / "python").exists():
        run([base_python(), "-m", "venv", venv])
        pip(venv, "install", "--upgrade", "pip")


def freeze(venv):
    out = subprocess.run(
        [venv / "bin" / "python", "-m", "pip", "freeze", "--exclude-editable"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return [ln for ln in out.splitlines() if ln and not ln.startswith("#")]


def dist_name(req_line):
    name = req_line.split("==")[0].split(" @ ")[0].strip()
    return name.lower().replace("_", "-")


def setup_ref(cache):
    venv = cache / "ref"
    stamp = venv / ".mite-upstream-ready"
    if stamp.exists():
        return venv
    make_venv(venv)
    pip(venv, "install", REF_SPEC, *TEST_TOOLS)
    pip(venv, "install", *EXTRA_TOOLS)
    stamp.write_text("ok\n")
    return venv


def constraints_file(cache, ref, name):
    lines = [ln for ln in freeze(ref) if dist_name(ln) not in OURS_DISTS]
    path = cache / f"ref-constraints-{name}.txt"
    path.write_text("\n".join(lines) + "\n")
    return path


def our_requirements_from_pyproject():
    """Ours' runtime requirements: dependencies plus every extra except dev."""
    meta = tomllib.loads((PROJECT / "pyproject.toml").read_text())["project"]
    reqs = list(meta.get("dependencies", []))
    for extra, items in meta.get("optional-dependencies", {}).items():
        if extra != "dev":
            reqs.extend(items)
    # An extra naming the project itself (`all = ["mite[...]"]`) would fetch mite 2.11.0 from
    # the index; every extra is listed here already.
    return [r for r in reqs if not re.match(r"mite\s*(\[|$|[<>=!;])", r)]


def build_debug_wheel(cache):
    out = cache / "wheels"
    shutil.rmtree(out, ignore_errors=True)
    maturin = PROJECT / ".venv" / "bin" / "maturin"
    run([maturin if maturin.exists() else "maturin", "build", "-q", "-o", out], cwd=PROJECT)
    return next(out.glob("mite-*.whl"))


def setup_ours(cache, ref, mode, wheel):
    # A venv per mode, so a wheel run never disturbs a source-tree run sharing the cache.
    venv = cache / ("ours" if mode == "dev" and not wheel else "ours-wheel")
    cons = constraints_file(cache, ref, venv.name)
    stamp = venv / ".mite-upstream-ready"
    if not stamp.exists() or stamp.read_text() != cons.read_text():
        make_venv(venv)
        # The same third-party set as ref, at the same versions, whatever ours declares;
        # --no-deps copies ref exactly, even where ref's own set has a pip-reported conflict.
        pip(venv, "install", "--no-deps", "-r", cons)
        stamp.write_text(cons.read_text())
    site = Path(
        subprocess.run(
            [
                venv / "bin" / "python",
                "-c",
                "import sysconfig; print(sysconfig.get_path('purelib'))",
            ],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    )
    pth = site / "mite_source_tree.pth"
    if mode == "dev" and not wheel:
        # A wheel installed by an earlier `--ours wheel` run would shadow the source tree.
        subprocess.run(
            [venv / "bin" / "python", "-m", "pip", "uninstall", "-q", "-y", "mite"],
            capture_output=True,
        )
        if not list((PROJECT / "python" / "mite").glob("_native*.so")):
            sys.exit("upstream-tests: python/mite/_native*.so is missing: run `make dev` first")
        pth.write_text(str(PROJECT / "python") + "\n")
    else:
        pth.unlink(missing_ok=True)
        wheel = Path(wheel) if wheel else build_debug_wheel(cache)
        pip(venv, "install", "--force-reinstall", "--no-deps", wheel)
    return venv, cons


# Run inside the ref venv: mite 2.11.0's installed dependency closure (default extras only).
_CLOSURE = """
import json
from importlib.metadata import PackageNotFoundError, distribution
from packaging.requirements import Requirement
seen, todo = set(), ["mite"]
while todo:
    try:
        dist = distribution(todo.pop())
    except PackageNotFoundError:
        continue
    name = dist.metadata["Name"].lower().replace("_", "-")
    if name in seen:
        continue
    seen.add(name)
    for line in dist.requires or []:
        req = Requirement(line)
        if req.marker is None or req.marker.evaluate({"extra": ""}):
            todo.append(req.name)
print(json.dumps(sorted(seen)))
"""


def install_gap(ref, ours, cons):
    """What installing mite 2.11.0 brings that ours' declared requirements (every extra but
    dev) would not; None when it cannot be worked out."""
    if tomllib is None:
        return None
    proc = subprocess.run([ref / "bin" / "python", "-c", _CLOSURE], capture_output=True, text=True)
    if proc.returncode != 0:
        return None
    theirs = set(json.loads(proc.stdout)) - OURS_DISTS
    proc = subprocess.run(
        [
            ours / "bin" / "python",
            "-m",
            "pip",
            "install",
            "-q",
            "--dry-run",
            "--ignore-installed",
            "--report",
            "-",
            "-c",
            cons,
            *our_requirements_from_pyproject(),
        ],
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        return None
    got = {
        i["metadata"]["name"].lower().replace("_", "-") for i in json.loads(proc.stdout)["install"]
    }
    return sorted(theirs - got)


def copy_suites(upstream, dest, only):
    copied = []
    for name, src, target in SUITES:
        src_dir = upstream / src
        if not src_dir.is_dir():
            log(f"{src} is missing from the checkout: suite {name} skipped")
            continue
        shutil.copytree(src_dir, dest / target, ignore=shutil.ignore_patterns("__pycache__"))
        files = sorted(p.name for p in (dest / target).glob("test_*.py"))
        if only:
            files = [f for f in files if any(o in f or o in f"{src}/{f}" for o in only)]
        if files:
            copied.append((name, src, dest / target, files))
    (dest / "pytest.ini").write_text(PYTEST_INI)
    return copied


def run_suite(venv, root, suite_dir, files, xml, timeout):
    cmd = [
        venv / "bin" / "python",
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        # one file that cannot be imported must not hide every other file's results
        "--continue-on-collection-errors",
        "-c",
        root / "pytest.ini",
        "--rootdir",
        root,
        f"--junitxml={xml}",
        f"--timeout={timeout}",
        *files,
    ]
    log(f"[{venv.name}] pytest {suite_dir.relative_to(root)} ({len(files)} files)")
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    with open(xml.with_suffix(".log"), "w") as out:
        subprocess.run(
            [str(c) for c in cmd], cwd=suite_dir, env=env, stdout=out, stderr=subprocess.STDOUT
        )


def _one_line(child):
    """The failure's message, or for a collection error the last `E ` line of its report."""
    msg = (child.get("message") or "").strip()
    if not msg or msg == "collection failure":
        e_lines = [ln[1:].strip() for ln in (child.text or "").splitlines() if ln.startswith("E ")]
        msg = e_lines[-1] if e_lines else msg or child.tag
    return msg.splitlines()[0][:160]


def parse_junit(xml, prefix):
    """{test id: (outcome, one-line message)}; outcome is pass, fail (failure or error) or skip."""
    results = {}
    if not xml.exists():
        return results
    for case in ET.parse(xml).iter("testcase"):
        file = case.get("file") or (case.get("classname", "").split(".")[0] + ".py")
        classname = case.get("classname", "")
        mod = Path(file).with_suffix("").as_posix().replace("/", ".")
        inner = classname[len(mod) + 1 :] if classname.startswith(mod + ".") else ""
        tid = f"{prefix}/{Path(file).name}::" + (f"{inner}::" if inner else "") + case.get("name")
        outcome, msg = "pass", ""
        for child in case:
            if child.tag in ("failure", "error"):
                outcome, msg = "fail", _one_line(child)
            elif child.tag == "skipped":
                outcome, msg = "skip", (child.get("message") or "")[:160]
        results[tid] = (outcome, msg)
    return results


def suite_hash(upstream, suite_src):
    """A key for a suite's content: reference results stay valid while it is unchanged."""
    h = hashlib.sha256(PYTEST_INI.encode())
    for p in sorted((upstream / suite_src).rglob("*")):
        if p.is_file() and "__pycache__" not in p.parts:
            h.update(p.relative_to(upstream).as_posix().encode())
            h.update(p.read_bytes())
    return h.hexdigest()[:16]


def run_and_parse(venv, root, suite_dir, files, timeout, prefix):
    xml = root / f"{venv.name}-{prefix.replace('/', '_')}.xml"
    run_suite(venv, root, suite_dir, files, xml, timeout)
    return parse_junit(xml, prefix)


def ref_results(venv, cache_dir, root, suite_dir, files, timeout, prefix, rerun):
    """Reference results per test file, run only for files not cached for this suite content."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    todo = [f for f in files if rerun or not (cache_dir / f"{f}.json").exists()]
    if todo:
        fresh = run_and_parse(venv, root, suite_dir, todo, timeout, prefix)
        for f in todo:
            mine = {t: r for t, r in fresh.items() if t.startswith(f"{prefix}/{f}::")}
            (cache_dir / f"{f}.json").write_text(json.dumps(mine))
    results = {}
    for f in files:
        results.update(json.loads((cache_dir / f"{f}.json").read_text()))
    return results


def is_extension(tid):
    return any(w in tid.lower() for w in EXTENSION_WORDS)


def report(all_ref, all_ours, gap, notes):
    by_file = defaultdict(list)
    for tid in sorted(set(all_ref) | set(all_ours)):
        by_file[tid.split("::")[0]].append(tid)
    lines = [
        "| file | tests | ref pass | ours pass | ref-pass/ours-fail |",
        "|---|---|---|---|---|",
    ]
    totals = [0, 0, 0, 0]
    regressions = []
    for f, tids in by_file.items():
        rp = sum(all_ref.get(t, ("missing",))[0] == "pass" for t in tids)
        op = sum(all_ours.get(t, ("missing",))[0] == "pass" for t in tids)
        bad = [
            t
            for t in tids
            if all_ref.get(t, ("",))[0] == "pass" and all_ours.get(t, ("missing",))[0] != "pass"
        ]
        regressions += bad
        for i, v in enumerate((len(tids), rp, op, len(bad))):
            totals[i] += v
        lines.append(f"| {f} | {len(tids)} | {rp} | {op} | {len(bad)} |")
    lines.append("| **total** | " + " | ".join(f"**{v}**" for v in totals) + " |")
    out = ["\n".join(lines), ""]
    for group, pick in (("core", False), ("extension", True)):
        ids = [t for t in regressions if is_extension(t) == pick]
        out.append(f"ref-pass/ours-fail, {group} ({len(ids)}):")
        for t in ids:
            outcome, msg = all_ours.get(t, ("missing", "not collected on ours"))
            allowed = "  (allowed: private attribute)" if t in PRIVATE_ATTRIBUTE_TESTS else ""
            out.append(f"  {t}  [{outcome}] {msg}{allowed}")
        out.append("")
    only_ours = [t for t in sorted(all_ours) if t not in all_ref and all_ours[t][0] == "fail"]
    if only_ours:
        out.append(
            f"failing on ours only, not tests on ref (e.g. collection errors) ({len(only_ours)}):"
        )
        out += [f"  {t}  {all_ours[t][1]}" for t in only_ours]
        out.append("")
    not_ref = [t for t in sorted(all_ref) if all_ref[t][0] != "pass"]
    if not_ref:
        out.append(f"not passing on ref, so outside the measure ({len(not_ref)}):")
        for t in not_ref:
            outcome, msg = all_ref[t]
            mine = all_ours.get(t, ("missing",))[0]
            out.append(f"  {t}  [ref {outcome}, ours {mine}] {msg}")
        out.append("")
    if gap is not None:
        out.append(
            "installed by `pip install mite==2.11.0` but not by ours' declared requirements "
            "(every extra but dev): " + (", ".join(gap) if gap else "none")
        )
    out += notes
    unexpected = [t for t in regressions if t not in PRIVATE_ATTRIBUTE_TESTS]
    return "\n".join(out), unexpected


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("upstream", type=Path, help="a checkout of sky-uk/mite (2.11.0)")
    ap.add_argument(
        "--cache-dir",
        type=Path,
        default=Path(
            os.environ.get("MITE_UPSTREAM_CACHE", Path.home() / ".cache" / "mite-upstream")
        ),
    )
    ap.add_argument(
        "--ours",
        choices=("dev", "wheel"),
        default="dev",
        help="dev: the live source tree (needs `make dev`); wheel: a debug maturin wheel",
    )
    ap.add_argument("--ours-wheel", help="install this wheel as ours instead of building one")
    ap.add_argument(
        "--only",
        action="append",
        default=[],
        help="run only test files whose name contains this (repeatable)",
    )
    ap.add_argument("--timeout", type=int, default=120, help="seconds per test (pytest-timeout)")
    ap.add_argument("--rerun-ref", action="store_true", help="ignore cached reference results")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir (junit xml, logs)")
    ap.add_argument("--output", type=Path, help="also write the report to this file")
    args = ap.parse_args()

    upstream = args.upstream.resolve()
    if not (upstream / "test").is_dir():
        sys.exit(f"upstream-tests: {upstream} is not a mite checkout (no test/ folder)")
    cache = args.cache_dir
    cache.mkdir(parents=True, exist_ok=True)
    # Several people may run this at once on one machine: each venv is set up by one at a time
    # (a lock per venv, so a wheel build does not hold up source-tree runs).
    with locked(cache / ".lock-ref"):
        ref = setup_ref(cache)
    ours_name = "ours" if args.ours == "dev" and not args.ours_wheel else "ours-wheel"
    with locked(cache / f".lock-{ours_name}"):
        ours, cons = setup_ours(cache, ref, args.ours, args.ours_wheel)

    notes = []
    if not (upstream / "test" / "test.har").exists():
        notes.append(
            "environment: test/test.har is absent from the checkout (its git object is "
            "missing), so test_har_to_mite's two file conversions fail on both sides."
        )
    root = Path(tempfile.mkdtemp(prefix="mite-upstream-"))
    all_ref, all_ours = {}, {}
    exit_code = 0
    try:
        for venv, store in ((ref, all_ref), (ours, all_ours)):
            side = root / venv.name
            side.mkdir()
            for name, src, suite_dir, files in copy_suites(upstream, side, args.only):
                if venv is ref:
                    cache_dir = cache / "ref-results" / f"{name}-{suite_hash(upstream, src)}"
                    store.update(
                        ref_results(
                            venv,
                            cache_dir,
                            side,
                            suite_dir,
                            files,
                            args.timeout,
                            src,
                            args.rerun_ref,
                        )
                    )
                else:
                    store.update(run_and_parse(venv, side, suite_dir, files, args.timeout, src))
        gap = None if args.only else install_gap(ref, ours, cons)
        text, unexpected = report(all_ref, all_ours, gap, notes)
        print(text)
        if args.output:
            args.output.write_text(text + "\n")
        if unexpected:
            log(f"{len(unexpected)} test(s) pass on mite 2.11.0 but not here")
            exit_code = 1
    finally:
        if args.keep:
            log(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
