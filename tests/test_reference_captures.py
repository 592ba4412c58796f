"""Expectations captured once from mite 2.11.0, checked again against the reference installed by
`make ref-venv`: the local-run message layouts (test_e2e LAYOUTS), the HAR golden files, and the
docopt tables of src/cli/docopt_cases.rs. A missing reference fails these tests."""

import ast
import json
import re
import subprocess
from pathlib import Path

import pytest

from helpers import REFERENCE_MITE, clean_env, collected, of_type, write_module
from test_e2e import FAST, LAYOUTS, SCEN

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
REFERENCE_PYTHON = REFERENCE_MITE.with_name("python")


def reference(args, cwd, **kwargs):
    assert REFERENCE_MITE.exists(), f"mite 2.11.0 is missing at {REFERENCE_MITE}: run `make ref-venv`"
    return subprocess.run([str(REFERENCE_MITE), *args], cwd=cwd, env=clean_env(),
                          capture_output=True, text=True, timeout=120, **kwargs)


@pytest.fixture(scope="module")
def reference_messages(tmp_path_factory):
    """What mite 2.11.0's collector wrote for a local run of test_e2e's SCEN."""
    folder = tmp_path_factory.mktemp("ref_scen")
    write_module(folder, "scen", SCEN)
    proc = reference(["scenario", "test", "scen:scenario", "--max-errors-threshold=100000", *FAST],
                     folder)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return collected(folder)


EXCEPTIONS_KEEP_THEIR_FIELDS = pytest.mark.xfail(
    strict=True,
    reason="deliberate difference (docs/COMPATIBILITY.md, 'Recorded exceptions keep their "
    "fields'): mite 2.11's MsgOutput pops fields of the message the collector then writes",
)


@pytest.mark.parametrize(
    "msg_type",
    [pytest.param(t, marks=EXCEPTIONS_KEEP_THEIR_FIELDS) if t == "exception" else t
     for t in LAYOUTS],
)
def test_the_message_layouts_are_the_references(reference_messages, msg_type):
    found = of_type(reference_messages, msg_type)
    assert found, f"mite 2.11.0 collected no {msg_type}"
    for msg in found:
        assert tuple(msg) == LAYOUTS[msg_type], tuple(msg)


def test_the_har_golden_files_are_the_references_output(tmp_path):
    proc = reference(["har", str(DATA / "sample.har"), "out.py"], tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (tmp_path / "out.py").read_text() == (DATA / "sample_har_journey.txt").read_text()
    # A numeric 0 (the Python API; the command line passes a string) uses the recorded gaps.
    code = ("import sys; from mite.har_to_mite import har_convert_to_mite; "
            "har_convert_to_mite(sys.argv[1], sys.argv[2], 0)")
    subprocess.run([str(REFERENCE_PYTHON), "-c", code, str(DATA / "sample.har"), "gaps.py"],
                   cwd=tmp_path, env=clean_env(), check=True, timeout=120)
    assert (tmp_path / "gaps.py").read_text() == (
        DATA / "sample_har_journey_recorded_gaps.txt"
    ).read_text()


# -- src/cli/docopt_cases.rs -------------------------------------------------------------------


def _rust_table(text, name):
    """A `const NAME: ... = &[...];` table of docopt_cases.rs as Python data."""
    match = re.search(rf"const {name}: [^=]+= (&\[.*?\n\]);", text, re.S)
    assert match, f"no table {name} in docopt_cases.rs"
    body = re.sub(r"^\s*//[^\n]*\n", "", match.group(1), flags=re.M)
    body = re.sub(r"\bB\(true\)", "True", body)
    body = re.sub(r"\bB\(false\)", "False", body)
    body = re.sub(r"\bS\((\"(?:[^\"\\]|\\.)*\")\)", r"\1", body)
    body = re.sub(r"\bL\(&\[(.*?)\]\)", r"[\1]", body)
    body = re.sub(r"(?<=[\s,(])N(?=[),])", "None", body)
    return ast.literal_eval(body.replace("&[", "["))


# Runs docopt 0.6.2 on mite 2.11.0's docstring for each argv (JSON on stdin and stdout).
_DOCOPT = """
import contextlib, io, json, sys
import docopt, mite.__main__ as m
out = []
for argv in json.load(sys.stdin):
    printed = io.StringIO()
    try:
        with contextlib.redirect_stdout(printed):
            out.append(["ok", docopt.docopt(m.__doc__, argv=argv)])
    except docopt.DocoptExit:
        out.append(["error", None])
    except SystemExit:
        out.append(["help", printed.getvalue()])
json.dump(out, sys.stdout)
"""


# Ours (docs/RESULTS.md): keys the reference's map lacks, and the help lines that add them.
OUR_KEYS = {"--html-report", "--json-summary", "--threshold", "report", "COLLECTOR_DIR", "--runners"}
OUR_HELP_LINES = ("--json-summary=", "--html-report=", "--threshold=EXPR  ", "COLLECTOR_DIR", "    EXPR  ")


def _without_our_additions(help_text):
    help_text = re.sub(r" \[--runners=RUNNERS\]|\n    --runners=RUNNERS +Runner processes [^\n]*", "", help_text)
    return "".join(
        line.replace(" [--threshold=EXPR]...", "")
        for line in help_text.splitlines(keepends=True)
        if not any(mark in line for mark in OUR_HELP_LINES)
    )


def test_the_docopt_tables_are_what_docopt_gives_on_the_reference():
    text = (ROOT / "src" / "cli" / "docopt_cases.rs").read_text()
    baseline = {k: v for k, v in _rust_table(text, "BASELINE") if k not in OUR_KEYS}
    # Cases of options beyond mite 2.11 (`--runners`, the results' options) are ours alone.
    ours = OUR_KEYS | {"--runners=2", "report"}
    accepted = [c for c in _rust_table(text, "ACCEPTED") if not any(a in ours for a in c[0])]
    rejected = [a for a in _rust_table(text, "REJECTED") if not any(x.split("=")[0] in ours for x in a)]
    helps = _rust_table(text, "HELP")
    argvs = [list(a) for a, _ in accepted] + [list(a) for a in rejected] + [list(a) for a in helps]
    proc = subprocess.run([str(REFERENCE_PYTHON), "-c", _DOCOPT], input=json.dumps(argvs),
                          capture_output=True, text=True, timeout=120, env=clean_env())
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = iter(json.loads(proc.stdout))
    for args, diff in accepted:
        kind, got = next(results)
        assert kind == "ok", args
        assert got == {**baseline, **dict(diff)}, args
    for args in rejected:
        assert next(results)[0] == "error", args
    reference_help = _without_our_additions((ROOT / "src" / "cli" / "help.txt").read_text())
    for args in helps:
        kind, printed = next(results)
        assert kind == "help", args
        assert printed == reference_help, args


