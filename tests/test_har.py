"""`mite har`: the journey written for tests/data/sample.har is the one mite 2.11.0 writes for it
(its output, captured once, is in tests/data/sample_har_journey*.txt)."""

from pathlib import Path

from helpers import run_mite
from mite.har_to_mite import har_convert_to_mite

DATA = Path(__file__).resolve().parent / "data"


def test_the_cli_writes_mite_211s_journey(tmp_path):
    proc = run_mite(["har", str(DATA / "sample.har"), "journey.py"], cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "journey.py").read_text() == (DATA / "sample_har_journey.txt").read_text()


def test_sleep_time_is_pasted_as_given(tmp_path):
    run_mite(["har", str(DATA / "sample.har"), "journey.py", "--sleep-time=2.5"], cwd=tmp_path)
    text = (tmp_path / "journey.py").read_text()
    assert text.count("    await sleep(2.5)\n") == 4
    assert text.replace("sleep(2.5)", "sleep(1)") == (DATA / "sample_har_journey.txt").read_text()


def test_a_numeric_zero_uses_the_recorded_gaps(tmp_path):
    har_convert_to_mite(str(DATA / "sample.har"), str(tmp_path / "j.py"), 0)
    assert (tmp_path / "j.py").read_text() == (DATA / "sample_har_journey_recorded_gaps.txt").read_text()


def test_bad_input_is_one_line(tmp_path):
    (tmp_path / "broken.har").write_text("{not json")
    for argv in (["har", "missing.har", "out.py"], ["har", "broken.har", "out.py"]):
        proc = run_mite(argv, cwd=tmp_path)
        assert proc.returncode == 1
        assert len(proc.stderr.splitlines()) == 1 and proc.stderr.startswith("mite: error: "), proc.stderr
