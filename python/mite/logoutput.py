"""Message processors that log: mite 2.11's `MsgOutput`, `DebugMessageOutput` and the request
statistics (`GenericStatsOutput`, `HttpStatsOutput`, `FinagleStatsOutput`).

Each has a Python `process_message`, used by `mite receiver --processor=...`, by user
subclasses and by any spec other than the two in `NATIVE`. In local runs, naming
`mite.logoutput:HttpStatsOutput` or `mite.logoutput:MsgOutput` exactly in
`--message-processors` switches on the native versions instead, which write the same lines
without running Python per message.
"""

import logging
import math
import statistics
import time
from collections import defaultdict

__all__ = [
    "MsgOutput",
    "DebugMessageOutput",
    "GenericStatsOutput",
    "HttpStatsOutput",
    "FinagleStatsOutput",
    "NATIVE",
]

# Specs served by the native pipeline in local runs (see mite.cli.test), by the feature they enable.
NATIVE = {"mite.logoutput:HttpStatsOutput": "console", "mite.logoutput:MsgOutput": "log_messages"}


def _head_and_fields(msg):
    """`[type] time` and the remaining fields as sorted `k=v`, as mite 2.11 prints a message."""
    rest = dict(msg)
    msg_type = rest.pop("type", None)
    t = rest.pop("time", None)
    stamp = f"{t:.6f}" if isinstance(t, (int, float)) else str(t)
    return f"[{msg_type}] {stamp}", rest


def _fields(rest):
    return ", ".join(f"{k}={v}" for k, v in sorted(rest.items(), key=lambda kv: str(kv[0])))


class MsgOutput:
    """Logs `exception` messages (anything with a stack trace) at WARNING with the trace, and
    every other message at DEBUG, on the `MSG` logger."""

    def __init__(self, opts=None):
        self._logger = logging.getLogger("MSG")

    def process_message(self, msg):
        # Works on a copy: mite 2.11 popped the fields out of the message itself, so whatever
        # handled the message next (the collector) lost them.
        stacktrace = msg.get("stacktrace")
        if stacktrace and self._logger.isEnabledFor(logging.WARNING):
            start, rest = _head_and_fields(msg)
            for key in ("stacktrace", "message", "ex_type"):
                rest.pop(key, None)
            self._logger.warning(
                "%s %s\n%s: %s\n%s", start, _fields(rest), msg.get("ex_type"), msg.get("message"), stacktrace
            )
        elif self._logger.isEnabledFor(logging.DEBUG):
            start, rest = _head_and_fields(msg)
            rest.pop("stacktrace", None)
            self._logger.debug("%s %s", start, _fields(rest))


class DebugMessageOutput:
    """Logs the `text` of `debug_console_message` messages at INFO on `Debug Logger`."""

    def __init__(self, opts=None):
        self._logger = logging.getLogger("Debug Logger")

    def process_message(self, message):
        text = message.get("text")
        if message.get("type") == "debug_console_message" and text:
            self._logger.info(text)


class GenericStatsOutput:
    """Counts requests (messages whose type is in `message_types`, with a `total_time`) and
    errors, and every `period` seconds, when a message arrives, logs the totals and the last
    period's percentiles on `"<log_name> Stats"`. Subclasses set `message_types` and `log_name`;
    the properties are the end-of-test figures the report uses."""

    def __init__(self, opts=None, period=2):
        if not hasattr(self, "log_name") or not hasattr(self, "message_types"):
            raise TypeError(
                f"{type(self).__name__} needs class attributes message_types and log_name "
                "(GenericStatsOutput is a base class)"
            )
        opts = opts or {}
        self._period = period
        # `--journey-logging` is a flag: docopt gives False when absent, anything else turns it on.
        self._journey_logging = opts.get("--journey-logging", False) is not False
        self._hide_constant_logs = opts.get("--hide-constant-logs")
        self._report = opts.get("--report")
        self._benchmark_percentiles = opts.get("--benchmark-percentiles")
        self._logger = logging.getLogger(f"{self.log_name} Stats")
        self._init_time = time.time()
        self._start_t = None
        self._req_total = self._req_recent = 0
        self._error_total = self._error_recent = 0
        self._resp_time_recent = []
        self._resp_time_store = []
        self._resp_time_min = self._resp_time_max = self._resp_time_mean = 0
        self._req_sec_store = []
        self._req_sec_min = self._req_sec_max = 0
        self._scenarios_completed_time = 0
        self._data_transferred = 0
        self._standard_deviation = 0
        self._error_journeys = defaultdict(int)

    def _pct(self, percentile):
        """The `percentile` of the last period's sorted response times, interpolated linearly
        between the two nearest samples."""
        samples = self._resp_time_recent
        if not samples:
            return "None"
        assert 0 <= percentile <= 100
        fraction, whole = math.modf((percentile / 100) * (len(samples) - 1))
        low = samples[int(whole)]
        if fraction == 0:
            # mite 2.11 printed f"{low}:.6f" here (the format spec inside the text).
            return f"{low:.6f}"
        return f"{low + (samples[int(whole) + 1] - low) * fraction:.6f}"

    @property
    def error_total(self):
        return self._error_total

    def print_output(self, t):
        """Logs the period that ends at `t` and starts the next one."""
        dt = t - self._start_t
        self._resp_time_recent.sort()
        if not self._hide_constant_logs:
            self._logger.info(f"Total> #Reqs:{self._req_total} #Errs:{self._error_total}")
        if self._journey_logging:
            for journey, count in self._error_journeys.items():
                self._logger.info(f"Total errors for {journey} :{count}")
        if not self._hide_constant_logs:
            pcts = " ".join(
                f"{label}:{self._pct(p)}"
                for label, p in (("min", 0), ("25%", 25), ("50%", 50), ("75%", 75), ("90%", 90),
                                 ("99%", 99), ("99.9%", 99.9), ("max", 100))
            )
            self._logger.info(
                f"Last {self._period} Secs> #Reqs:{self._req_recent} #Errs:{self._error_recent} "
                f"Req/S:{self._req_recent / dt:.1f} {pcts}"
            )
        self._start_t = t
        self._resp_time_recent.clear()
        self._req_recent = self._error_recent = 0

    def _close_period(self, t):
        if self._resp_time_recent:
            self._resp_time_store.extend(self._resp_time_recent)
            low = self.min_resp_time_recent
            self._resp_time_min = low if self._resp_time_min == 0 else min(low, self._resp_time_min)
            self._resp_time_max = max(self.max_resp_time_recent, self._resp_time_max)
        if self._req_recent:
            req_sec = self._req_recent / (t - self._start_t)
            if self._report:
                self._req_sec_store.append(req_sec)
            self._req_sec_min = req_sec if self._req_sec_min == 0 else min(req_sec, self._req_sec_min)
            self._req_sec_max = max(req_sec, self._req_sec_max)
        self.print_output(t)

    def process_message(self, message):
        if "type" not in message:
            return
        msg_type = message["type"]
        t = time.time()
        if self._start_t is None:
            self._start_t = t
        if self._start_t + self._period < t:
            self._close_period(t)
        if msg_type in self.message_types:
            self._resp_time_recent.append(message["total_time"])
            self._data_transferred += message.get("download_size", 0)
            self._req_total += 1
            self._req_recent += 1
        elif msg_type in ("error", "exception"):
            self._error_total += 1
            self._error_recent += 1
            if self._journey_logging:
                self._error_journeys[message.get("journey")] += 1

    @property
    def percentiles_list_resp_time_store(self):
        """[(percentile, threshold_ms, seconds)] for `--benchmark-percentiles` ("p:ms,...")."""
        wanted = [tuple(int(x) for x in p.split(":")[:2]) for p in self._benchmark_percentiles.split(",")]
        store = self._resp_time_store
        if not store:
            return []
        # Python < 3.13 cannot take quantiles of one sample; they are all that sample.
        cuts = statistics.quantiles(store, n=100) if len(store) > 1 else [store[0]] * 99
        return [(p, threshold, cuts[p - 1]) for p, threshold in wanted]

    @property
    def mean_resp_time(self):
        return statistics.fmean(self._resp_time_store) if self._resp_time_store else 0

    @property
    def max_resp_time_recent(self):
        return max(self._resp_time_store) if self._resp_time_store else 0

    @property
    def min_resp_time_recent(self):
        return min(self._resp_time_store) if self._resp_time_store else 0

    @property
    def req_sec_mean(self):
        return statistics.fmean(self._req_sec_store) if self._req_sec_store else 0

    # Standard deviations of fewer than two samples are 0 (Python's `statistics` raises).
    @property
    def resp_time_standard_deviation(self):
        store = self._resp_time_store
        return statistics.stdev(store) if len(store) > 1 else 0

    @property
    def req_sec_standard_deviation(self):
        store = self._req_sec_store
        return statistics.stdev(store) if len(store) > 1 else 0

    @staticmethod
    def _within_one_stdev(samples, mean, stdev):
        """The percentage of samples strictly within mean ± stdev."""
        if not samples:
            return 0
        return sum(abs(x - mean) < stdev for x in samples) / len(samples) * 100

    @property
    def resp_time_within_standard_deviation(self):
        return self._within_one_stdev(
            self._resp_time_store, self.mean_resp_time, self.resp_time_standard_deviation
        )

    @property
    def req_sec_within_standard_deviation(self):
        return self._within_one_stdev(
            self._req_sec_store, self.req_sec_mean, self.req_sec_standard_deviation
        )


class HttpStatsOutput(GenericStatsOutput):
    """`Http Stats` lines for HTTP (and selenium page/resource) timings."""

    message_types = {"http_metrics", "selenium_page_load_metrics", "selenium_network_resource_metrics"}
    log_name = "Http"


class FinagleStatsOutput(GenericStatsOutput):
    """`Finagle Stats` lines for `finagle_metrics`."""

    message_types = {"finagle_metrics"}
    log_name = "Finagle"
