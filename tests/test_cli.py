"""The `mite` command line grammar, through the installed command: help, version, option forms,
and the one-line errors for bad input."""

import re
import subprocess
import sys

import pytest

from helpers import (
    HELP_TXT,
    REFERENCE_MITE,
    collected,
    of_type,
    read_frames,
    run_mite,
    write_module,
)

JOURNEY = """
    async def journey(ctx, *args):
        ctx.send("seen", a=ctx.config.get("a"), b=ctx.config.get("b"), args=args)
        ctx.send("data_created", name="marker", data=1)
"""


@pytest.fixture
def project(tmp_path):
    write_module(tmp_path, "m", JOURNEY)
    write_module(
        tmp_path,
        "pool",
        "from mite.datapools import IterableDataPool\npool = IterableDataPool([('x',)])\n",
    )
    return tmp_path


def assert_usage_error(proc, *needles):
    """Exit 2, nothing on stdout, one or two lines on stderr: `mite: error: ...` first."""
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert 1 <= len(lines) <= 2, proc.stderr
    assert lines[0].startswith("mite: error: "), lines
    assert "Traceback" not in proc.stderr
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])


# --- help and version -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args", [["--help"], ["-h"], ["scenario", "test", "--help"], ["--help", "journey"]]
)
def test_help_prints_mite_211s_text(tmp_path, args):
    proc = run_mite(args, cwd=tmp_path)
    assert proc.returncode == 0
    assert proc.stderr == ""
    assert proc.stdout == HELP_TXT.read_text()


def test_help_is_identical_to_the_reference(tmp_path):
    ours = run_mite(["--help"], cwd=tmp_path)
    reference = subprocess.run(
        [str(REFERENCE_MITE), "--help"], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert reference.returncode == 0
    # Beyond mite 2.11 (docs/COMPATIBILITY.md): `--runners` on the two test lines, and its line.
    added = re.compile(r" \[--runners=RUNNERS\]|\n    --runners=RUNNERS +Runner processes [^\n]*")
    assert len(added.findall(ours.stdout)) == 3
    assert added.sub("", ours.stdout) == reference.stdout


def test_version(tmp_path):
    proc = run_mite(["--version"], cwd=tmp_path)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "mite 2.11.0\n", "")


def test_python_dash_m_mite_is_the_same_command(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "mite", "--version"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (proc.returncode, proc.stdout) == (0, "mite 2.11.0\n")


# --- option forms -----------------------------------------------------------------------------

FORMS = {
    "all-before-the-command": "--max-loop-delay 0.1 --recorder-dir=rd journey run "
    "--add-to-config a:1 --add-to-config=b:2 m:journey",
    "all-after-the-positionals": "journey run m:journey --max-loop-delay=0.1 --recorder-dir rd "
    "--add-to-config=a:1 --add-to-config b:2",
    "between-the-words": "journey --add-to-config a:1 run --recorder-dir rd m:journey "
    "--max-loop-delay 0.1 --add-to-config=b:2",
    "unique-prefixes": "journey run m:journey --max-loop=0.1 --recorder-d=rd --add-to=a:1 "
    "--add-to-config=b:2",
}


@pytest.mark.parametrize("argv", FORMS.values(), ids=FORMS.keys())
def test_options_are_accepted_in_every_form_and_place(project, argv):
    proc = run_mite(argv.split(), cwd=project)
    assert proc.returncode == 0, proc.stderr[-2000:]
    (seen,) = of_type(collected(project), "seen")
    assert (seen["a"], seen["b"], seen["args"]) == ("1", "2", ())
    assert read_frames(project / "rd" / "marker.msgpack") == [1]


def test_an_optional_positional_after_options(project):
    argv = "journey run --max-loop-delay 0.1 m:journey --add-to-config a:1 pool:pool".split()
    proc = run_mite(argv, cwd=project)
    assert proc.returncode == 0, proc.stderr[-2000:]
    (seen,) = of_type(collected(project), "seen")
    assert (seen["a"], seen["args"]) == ("1", ("x",))


# --- usage errors: exit 2, one or two lines, nothing run --------------------------------------


USAGE_ERRORS = [
    (["--bogus", "scenario", "test", "m:s"], ["--bogus"]),
    (["scenario", "test", "m:s", "--bogus=1"], ["--bogus"]),
    (["journey", "run", "m:journey", "--collector-dir=x"], ["--collector-dir"]),
    (["journey", "test", "m:journey", "--spawn-rate=abc"], ["--spawn-rate", "abc"]),
    (["journey", "test", "m:journey", "--volume=-1"], ["--volume", "-1"]),
    (["journey", "test", "m:journey", "--max-loop-delay", "soon"], ["--max-loop-delay", "soon"]),
    (["journey", "test", "m:journey", "--log-level=verbose"], ["--log-level", "verbose"]),
    (["journey", "test", "m:journey", "--max-errors-threshold=1e3"], ["--max-errors-threshold"]),
    (["journey", "test", "m:journey", "--runner-max-journeys=0"], ["--runner-max-journeys"]),
    (
        ["journey", "test", "m:journey", "--benchmark-percentiles=100:0"],
        ["--benchmark-percentiles"],
    ),
    (["journey", "test", "m:journey", "--volume"], ["--volume"]),
    (["journey", "test", "m:journey", "--max=1"], ["--max"]),
    (["scenario", "test"], ["SCENARIO_SPEC"]),
    (["journey", "run"], ["JOURNEY_SPEC"]),
    (["journey"], ["journey"]),
    (["scenario", "test", "m:s", "extra"], ["extra"]),
    (["journey", "run", "m:journey", "pool:pool", "extra"], ["extra"]),
    (["frobnicate"], ["frobnicate"]),
    ([], []),
]


@pytest.mark.parametrize(
    "argv, needles", USAGE_ERRORS, ids=[" ".join(argv) or "<nothing>" for argv, _ in USAGE_ERRORS]
)
def test_usage_errors_are_one_line_and_exit_2(project, argv, needles):
    proc = run_mite(argv, cwd=project)
    assert_usage_error(proc, *needles)
    assert not (project / "collector_data").exists()


@pytest.mark.parametrize(
    "argv, status, words",
    [
        (["duplicator", "--message-socket=bogus", "tcp://127.0.0.1:1"], 1, "cannot bind PULL socket"),
        (["duplicator", "--message-socket=tcp://127.0.0.1:*", "bogus"], 1, "cannot bind PUSH socket"),
        (["stats", "--stats-in-socket=nowhere"], 1, "cannot connect PULL socket"),
        (["prometheus_exporter", "--stats-out-socket=tcp://127.0.0.1:*", "--web-address=127.0.0.1:http"], 2, "--web-address expects"),
        (["prometheus_exporter", "--stats-out-socket=bogus"], 1, "cannot bind PULL socket"),
        (["collector", "--collector-roll=many"], 2, "--collector-roll expects"),
        (["collector", "--collector-filter=no_such_module:f"], 2, "no_such_module"),
        (["receiver", "tcp://127.0.0.1:1", "--processor=no_such_module:P"], 2, "no_such_module"),
        (["controller", "no_such_module:scenario"], 2, "no_such_module"),
        (["runner", "--controller-socket=bogus"], 1, "cannot connect REQ socket"),
    ],
    ids=lambda v: v[0] if isinstance(v, list) else None,
)
def test_distributed_components_refuse_bad_input_in_one_line(tmp_path, argv, status, words):
    proc = run_mite(argv, cwd=tmp_path, timeout=30)
    assert proc.returncode == status, proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("mite: error: ")]
    assert len(errors) == 1 and words in errors[0], proc.stderr
    assert "Traceback" not in proc.stderr
