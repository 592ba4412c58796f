"""The `mite_selenium` stats (the `mite_stats` entry point): page-load counts and histograms,
built from `mite.stats` helpers so that the native stats path runs them."""

from mite.stats import Counter, Histogram, extractor, matcher_by_type

# mite 2.11's lists, names and order, including `tcp_time` twice (two stats of one name, as its
# dumps and /metrics page have them).
_PAGE_LOAD_METRICS = [
    ("dns_lookup_time", "seconds"),
    ("dom_interactive", "seconds"),
    ("js_onload_time", "seconds"),
    ("page_weight", "bytes"),
    ("render_time", "seconds"),
    ("tcp_time", "seconds"),
    ("tcp_time", "seconds"),
    ("time_to_first_byte", "seconds"),
    ("time_to_interactive", "seconds"),
    ("time_to_last_byte", "seconds"),
    ("tls_time", "seconds"),
    ("total_time", "seconds"),
]

# Matching message types that mite 2.11's mite_selenium never sends; kept so that the stats (and
# their names on /metrics) are the same.
_NETWORK_RESOURCE_METRICS = [
    ("dns_lookup_time", "seconds"),
    ("page_weight", "bytes"),
    ("tcp_time", "seconds"),
    ("time_to_first_byte", "seconds"),
    ("time_to_last_byte", "seconds"),
    ("tls_time", "seconds"),
    ("total_time", "seconds"),
]

_CUSTOM_METRICS = [("js_execution_time", "seconds")]

_SECONDS_BINS = [0.0001, 0.001, 0.01, 0.05, 0.1, 0.2, 0.4, 0.8, 1, 2, 4, 8, 16, 32, 64]


def build_metrics(metrics, matcher, labels):
    """One histogram per `(metric, unit)`, named `mite_{matcher}_{metric}_{unit}`, over the
    `{matcher}_metrics` messages (byte histograms' bins are the seconds bins times 1000)."""
    histograms = []
    for metric, unit in metrics:
        bins = [b * 1000 for b in _SECONDS_BINS] if unit == "bytes" else list(_SECONDS_BINS)
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
        "mite_selenium_response_total",
        matcher_by_type("selenium_page_load_metrics"),
        extractor("test journey transaction".split()),
    ),
    *build_metrics(_PAGE_LOAD_METRICS, "selenium_page_load", ["transaction"]),
    *build_metrics(
        _NETWORK_RESOURCE_METRICS, "selenium_network_resource", ["transaction", "resource_path"]
    ),
    *build_metrics(_CUSTOM_METRICS, "selenium", ["transaction"]),
)
