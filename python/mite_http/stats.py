"""Stats for HTTP journeys: response counts and time histograms built from `http_metrics` messages."""

import os

from mite.stats import Counter, Histogram, extractor, matcher_by_type

_DEFAULT_BUCKETS = "0.0001,0.001,0.01,0.05,0.1,0.2,0.4,0.8,1,2,4,8,16,32,64"


def _buckets(env_name):
    return [float(x) for x in os.environ.get(env_name, _DEFAULT_BUCKETS).split(",")]


def _generate_stats():
    """The stats registered under `mite_stats` as `mite_http`; buckets from MITE_HTTP_HISTOGRAM_BUCKETS."""
    return (
        Counter(
            name="mite_http_response_total",
            matcher=matcher_by_type("http_metrics"),
            extractor=extractor(["test", "journey", "transaction", "method", "response_code"]),
        ),
        Histogram(
            name="mite_http_response_time_seconds",
            matcher=matcher_by_type("http_metrics"),
            extractor=extractor(["transaction"], "total_time"),
            bins=_buckets("MITE_HTTP_HISTOGRAM_BUCKETS"),
        ),
    )


STATS = _generate_stats()


def _generate_dns_stats():
    """A DNS-time histogram (not registered by default); buckets from MITE_DNS_HISTOGRAM_BUCKETS."""
    return (
        Histogram(
            name="mite_dns_time",
            matcher=matcher_by_type("http_metrics"),
            extractor=extractor(["transaction"], "dns_time"),
            bins=_buckets("MITE_DNS_HISTOGRAM_BUCKETS"),
        ),
    )


DNS_STATS = _generate_dns_stats()
