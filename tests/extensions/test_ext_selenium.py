"""mite_selenium against a real chromedriver + headless Chromium, beside mite 2.11.0."""

import subprocess
import sys

import browser_support as bs

from mite.stats import native_spec

PROCESSORS = bs.PROCESSORS
SPEC = "selenium_example:scenario"
PAGE_LOAD_FIELDS = [
    "dns_lookup_time", "dom_interactive", "js_onload_time", "page_weight", "render_time",
    "tcp_time", "time_to_first_byte", "time_to_interactive", "time_to_last_byte", "tls_time",
    "total_time", "first_contentful_paint", "first_paint", *bs.TAIL_KEYS,
]  # fmt: skip


def _config(site, webdriver, **overrides):
    config = {
        "target": site.url,
        "webdriver_command_executor": webdriver,
        "webdriver_capabilities": "selenium_example:capabilities",
    }
    config.update(overrides)
    return {k: v for k, v in config.items() if v is not None}


def _run_both(tmp_path, config, *args):
    """The example under ours and under mite 2.11.0, each in its own folder."""
    runs = {}
    for name, mite in (("ours", bs.OUR_MITE), ("ref", bs.REF_MITE)):
        cwd = tmp_path / name
        cwd.mkdir()
        proc = bs.run_example(mite, "selenium_example.py", cwd, SPEC, config, PROCESSORS, *args)
        runs[name] = (proc, bs.journey_messages(bs.collected(cwd)))
    return runs


def test_example_against_chromedriver_matches_mite_2_11(tmp_path):
    with bs.site() as site, bs.chromedriver() as webdriver:
        runs = _run_both(tmp_path, _config(site, webdriver))
        paths = site.paths()
    (ours_proc, ours), (ref_proc, ref) = runs["ours"], runs["ref"]
    assert ours_proc.returncode == 0, ours_proc.stderr[-3000:]
    assert ref_proc.returncode == 0, ref_proc.stderr[-3000:]
    assert "Traceback" not in ours_proc.stderr
    metrics = [m for m in ours if m["type"] == "selenium_page_load_metrics"]
    assert [m["transaction"] for m in metrics] == [
        "__root__ :: first visit",
        "__root__ :: second visit",
    ]
    for m in metrics:
        assert list(m) == PAGE_LOAD_FIELDS
        assert isinstance(m["page_weight"], int) and m["page_weight"] > 0
        assert all(isinstance(m[k], float) for k in PAGE_LOAD_FIELDS[:13] if k != "page_weight")
        # Real timings from the page: it painted, and the whole load took some time.
        assert 0 < m["first_paint"] <= m["first_contentful_paint"] < 60
        assert 0 < m["total_time"] < 60
    title = next(m for m in ours if m["type"] == "page_title")
    assert title["text"] == "Hello from the loopback site"
    assert title["url"].endswith("/page?id=first")
    # Each run loaded both pages, and each page reported its paint (the page waits for it).
    assert paths.count("/painted") == 4 and paths.count("/page") == 4
    bs.assert_same_shapes(ours, ref)


def _failed_journey(runs):
    out = {}
    for name, (proc, messages) in runs.items():
        assert proc.returncode == 0, (name, proc.stderr[-3000:])
        failures = [m for m in messages if m["type"] in ("error", "exception")]
        assert len(failures) == 1, (name, messages)
        out[name] = failures[0]
        txns = [m for m in messages if m["type"] == "txn"]
        assert [(t["transaction"], t["had_error"]) for t in txns] == [("__root__", True)]
    return out["ours"], out["ref"]


def test_no_webdriver_at_the_address_fails_the_journey_as_mite_2_11(tmp_path):
    closed = f"http://127.0.0.1:{bs.free_port()}"
    with bs.site() as site:
        runs = _run_both(tmp_path, _config(site, closed), "--max-errors-threshold=5")
    ours, ref = _failed_journey(runs)
    assert ours["type"] == ref["type"] == "exception"
    assert ours["ex_type"] == ref["ex_type"] == "MaxRetryError"
    assert bs.shape(ours) == bs.shape(ref)
    assert "Traceback" not in runs["ours"][0].stderr


def test_missing_capabilities_spec_fails_the_journey_as_mite_2_11(tmp_path):
    with bs.site() as site:
        runs = _run_both(
            tmp_path,
            _config(site, "http://127.0.0.1:9", webdriver_capabilities=None),
            "--max-errors-threshold=5",
        )
    ours, ref = _failed_journey(runs)
    assert ours["type"] == ref["type"] == "exception"
    assert bs.shape(ours) == bs.shape(ref)
    assert ref["ex_type"] == "AttributeError"  # mite 2.11: spec_import(None) -> None.split
    assert ours["ex_type"] == "SpecError"
    assert "webdriver_capabilities is not set" in ours["message"]


def test_without_selenium_installed_one_line_names_the_extra(tmp_path):
    proc = bs.run_without(tmp_path, "selenium", "selenium_example.py", SPEC)
    line = bs.assert_one_line_error(proc)
    assert 'pip install "mite[selenium]"' in line
    # The stats need no selenium: the `mite_stats` entry point loads on an install without it.
    code = "import sys; from mite_selenium.stats import STATS; print(len(STATS), 'selenium' in sys.modules)"
    stats = bs.run_without(
        tmp_path, "selenium", "selenium_example.py", SPEC, [sys.executable, "-c", code]
    )
    assert stats.returncode == 0 and stats.stdout.split() == ["21", "False"], stats.stderr


def _stats_description(python):
    code = (
        "from mite_selenium.stats import STATS\n"
        "for s in STATS:\n"
        "    print(type(s).__name__, s.name, s.matcher({'type': 'selenium_page_load_metrics'}),"
        " list(s.extractor.labels), getattr(s, 'bins', None))\n"
    )
    proc = subprocess.run(
        [str(python), "-c", code], capture_output=True, text=True, timeout=60, env=bs.mite_env()
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.splitlines()


def test_stats_are_mite_2_11s_and_run_natively():
    from mite_selenium.stats import STATS

    ours = _stats_description(sys.executable)
    assert ours == _stats_description(bs.REF_VENV / "bin" / "python")
    assert len(ours) == 21
    assert all(native_spec(stat) is not None for stat in STATS)


WIRE_SCENARIO = """
from mite_selenium import mite_selenium


@mite_selenium(wire=True)
async def journey(ctx):
    pass


def scenario():
    return [["wired:journey", None, lambda start, end: 1]]
"""


def test_wire_without_selenium_wire_installed_one_line_says_what_to_install(tmp_path):
    (tmp_path / "wired.py").write_text(WIRE_SCENARIO)
    proc = bs.run_mite(bs.OUR_MITE, tmp_path, "wired:scenario", {})
    line = bs.assert_one_line_error(proc)
    # No extra ships selenium-wire (it needs 2022 pins): the line names the packages instead.
    assert line.endswith(
        'pip install selenium-wire==4.6.5 "blinker<1.8" "pyOpenSSL<22.1" "cryptography<39"'
    ), line
    assert "mite[" not in line
