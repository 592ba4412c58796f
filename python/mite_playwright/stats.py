"""Stats over mite_playwright's messages, as mite 2.11 defines them. mite 2.11 does not register
them as a `mite_stats` entry point, and neither does this distribution: several histograms read
fields their message type does not carry (`status_code`; js_onload_time, page_weight, render_time
and time_to_interactive come in `playwright_paint_metrics`), which mite 2.11's stats process
died on; here such messages are counted as unusable and skipped."""

from mite.stats import Counter, Histogram, extractor, matcher_by_type

_PAGE_LOAD_METRICS = [
    ("dns_lookup_time", "seconds"),
    ("js_onload_time", "seconds"),
    ("page_weight", "seconds"),
    ("render_time", "seconds"),
    ("tcp_time", "seconds"),
    ("tls_time", "seconds"),
    ("time_to_first_byte", "seconds"),
    ("time_to_last_byte", "seconds"),
    ("time_to_interactive", "seconds"),
    ("total_time", "seconds"),
    ("request_start_time", "seconds"),
    ("response_start_time", "seconds"),
    ("response_end_time", "seconds"),
    ("response_size", "bytes"),
    ("status_code", "number"),
]

_NETWORK_RESOURCE_METRICS = [
    ("dns_lookup_time", "seconds"),
    ("tcp_time", "seconds"),
    ("tls_time", "seconds"),
    ("time_to_first_byte", "seconds"),
    ("time_to_last_byte", "seconds"),
    ("total_time", "seconds"),
    ("response_size", "bytes"),
    ("status_code", "number"),
]

_PAINT_METRICS = [("first_contentful_paint", "seconds"), ("first_paint", "seconds")]

_CUSTOM_METRICS = [("execution_time", "seconds")]

_SECONDS_BINS = [0.0001, 0.001, 0.01, 0.05, 0.1, 0.2, 0.4, 0.8, 1, 2, 4, 8, 16, 32, 64]
_STATUS_BINS = [100, 200, 300, 400, 500, 600]


def build_metrics(metrics, matcher, labels):
    """One histogram per `(metric, unit)`, named `mite_{matcher}_{metric}_{unit}`, over the
    `{matcher}_metrics` messages."""
    histograms = []
    for metric, unit in metrics:
        if unit == "bytes":
            bins = [b * 1000 for b in _SECONDS_BINS]
        elif unit == "number":
            bins = list(_STATUS_BINS)
        else:
            bins = list(_SECONDS_BINS)
        histograms.append(
            Histogram(
                name=f"mite_{matcher}_{metric}_{unit}",
                matcher=matcher_by_type(f"{matcher}_metrics"),
                extractor=extractor(labels, metric),
                bins=bins,
            )
        )
    return histograms


STATS = (
    Counter(
        "mite_playwright_response_total",
        matcher_by_type("playwright_page_load_metrics"),
        extractor("test journey transaction".split()),
    ),
    *build_metrics(_PAGE_LOAD_METRICS, "playwright_page_load", ["transaction"]),
    *build_metrics(
        _NETWORK_RESOURCE_METRICS, "playwright_network_resource", ["transaction", "resource_path"]
    ),
    *build_metrics(_PAINT_METRICS, "playwright_paint", ["transaction"]),
    *build_metrics(_CUSTOM_METRICS, "playwright", ["transaction"]),
)
