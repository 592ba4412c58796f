"""Thresholds (`--threshold`) and report files (`--json-summary`, `--html-report`): checked before
a run starts, and `mite report COLLECTOR_DIR`, which makes the same reports from a collector folder."""

import os
import sys

from .. import _native
from .common import UsageError

EXIT_FAILURE = 1


def _check_writable(option, path):
    """Fails now, in one line, when the report could not be written at the end."""
    existed = os.path.exists(path)
    try:
        with open(path, "a"):
            pass
    except OSError as e:
        raise UsageError(f"{option} cannot write {path}: {e.strerror}") from None
    if not existed:
        os.remove(path)


def results_request(opts, config=()):
    """The native request, or UsageError naming the bad value; None when nothing was asked."""
    thresholds = list(opts.get("--threshold") or [])
    json_summary, html_report = opts.get("--json-summary"), opts.get("--html-report")
    if not (thresholds or json_summary or html_report):
        return None
    for option, path in (("--json-summary", json_summary), ("--html-report", html_report)):
        if path:
            _check_writable(option, path)
    try:
        return _native.ResultsRequest(
            thresholds=thresholds, json_summary=json_summary, html_report=html_report, config=list(config)
        )
    except ValueError as e:
        raise UsageError(str(e)) from None


def report(opts):
    """`mite report COLLECTOR_DIR`: the JSON summary, HTML report and thresholds of a collector
    folder; returns the exit status."""
    folder = opts["COLLECTOR_DIR"]
    if not os.path.isdir(folder):
        raise UsageError(f"COLLECTOR_DIR {folder} is not a folder")
    request = results_request(opts) or _native.ResultsRequest()
    result = _native.report_folder(folder, request)
    print(
        f"{result['requests']} requests in {result['frames']} messages from {result['files']} files"
        f" in {folder}"
    )
    if result["skipped_bytes"]:
        print(
            f"mite: {result['skipped_bytes']} bytes after the last whole message were skipped in {folder}",
            file=sys.stderr,
        )
    if result["thresholds"]:
        sys.stdout.write(result["thresholds"])
    sys.stdout.flush()
    if result["report_failures"]:
        print(f"mite: error: {'; '.join(result['report_failures'])}", file=sys.stderr)
        return EXIT_FAILURE
    if result["broken"]:
        print(f"mite: test failed: {'; '.join(result['broken'])}", file=sys.stderr)
        return EXIT_FAILURE
    return 0
