"""Public-API version of upstream test_logging.py, which reads `HttpStatsOutput._journey_logging`.

With `--journey-logging` the periodic output names each journey's error count; without it,
it does not.
"""

import logging
import time

from mite.logoutput import HttpStatsOutput

DEADLINE = 30
ERROR = {"type": "error", "journey": "scenarios:my_journey", "message": "boom"}


def feed_until_output(processor, caplog, messages):
    """Feeds `messages`, then harmless messages until the periodic output has been logged.

    Output logged while `messages` were fed is dropped: the counts are cumulative, so the
    output that follows them all shows every one.
    """
    for msg in messages:
        processor.process_message(msg)
    caplog.clear()
    end = time.monotonic() + DEADLINE
    while not any("Total>" in r.getMessage() for r in caplog.records):
        assert time.monotonic() < end, "no periodic output before the deadline"
        processor.process_message({"type": "txn"})
        time.sleep(0.01)


def test_journey_logging_on(caplog):
    caplog.set_level(logging.INFO)
    out = HttpStatsOutput({"--journey-logging": ""}, period=0)
    feed_until_output(out, caplog, [ERROR, ERROR])
    lines = [r.getMessage() for r in caplog.records]
    assert "Total errors for scenarios:my_journey :2" in lines


def test_journey_logging_off(caplog):
    caplog.set_level(logging.INFO)
    out = HttpStatsOutput({}, period=0)
    feed_until_output(out, caplog, [ERROR, ERROR])
    assert not any("Total errors for" in r.getMessage() for r in caplog.records)


def test_hide_constant_logs_leaves_only_the_journey_error_lines(caplog):
    # `--hide-constant-logs` drops the `Total>` and `Last N Secs>` lines; the journey error
    # lines still come, so they mark the end of a period here.
    caplog.set_level(logging.INFO)
    out = HttpStatsOutput({"--journey-logging": "", "--hide-constant-logs": True}, period=0)
    for msg in (ERROR, ERROR):
        out.process_message(msg)
    caplog.clear()  # the counts are cumulative: the next output shows both errors
    end = time.monotonic() + DEADLINE
    while not any("Total errors for" in r.getMessage() for r in caplog.records):
        assert time.monotonic() < end, "no periodic output before the deadline"
        out.process_message({"type": "txn"})
        time.sleep(0.01)
    lines = [r.getMessage() for r in caplog.records]
    assert "Total errors for scenarios:my_journey :2" in lines
    assert not any("Total>" in line or "Secs>" in line for line in lines), lines
