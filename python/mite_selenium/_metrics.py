"""The fields of `selenium_page_load_metrics`, from a page's navigation and paint entries."""

import logging

logger = logging.getLogger("mite_selenium")

# Sent as given; every other metric is milliseconds from the browser, sent as seconds.
_NOT_TIMES = ("page_weight", "resource_path")


def _is_using_tls(name):
    return name.startswith("https")


def _tls_time(timings):
    if _is_using_tls(timings["name"]):
        return timings["connectEnd"] - timings["secureConnectionStart"]
    logger.info("Secure TLS connection not used, defaulting tls_time to 0")
    return 0


def _tcp_time(timings):
    if _is_using_tls(timings["name"]):
        return timings["secureConnectionStart"] - timings["connectStart"]
    return timings["connectEnd"] - timings["connectStart"]


def _expected_entries(entries, expected=1):
    if len(entries) == expected:
        return entries[:expected]
    logger.error(
        f"Performance entries did not return the expected count: expected {expected} - actual {len(entries)}"
    )
    return None


def _navigation_metrics(timings):
    protocol = timings.get("nextHopProtocol")
    if protocol != "http/1.1":
        logger.warning(f"Timings may be inaccurate as protocol is not http/1.1: {protocol}")
    # mite 2.11's names and order.
    return {
        "dns_lookup_time": timings["domainLookupEnd"] - timings["domainLookupStart"],
        "dom_interactive": timings["domInteractive"],
        "js_onload_time": timings["domContentLoadedEventEnd"]
        - timings["domContentLoadedEventStart"],
        "page_weight": timings["transferSize"],
        "render_time": timings["domInteractive"] - timings["responseEnd"],
        "tcp_time": _tcp_time(timings),
        "time_to_first_byte": timings["responseStart"] - timings["connectEnd"],
        "time_to_interactive": timings["domInteractive"] - timings["requestStart"],
        "time_to_last_byte": timings["responseEnd"] - timings["connectEnd"],
        "tls_time": _tls_time(timings),
        "total_time": timings["duration"],
    }


def page_load_metrics(navigation_entries, paint_entries):
    """The message's fields (seconds, except `page_weight` in bytes), or {} when the page gave
    neither one navigation entry nor both paint entries (each absence is logged)."""
    navigation = _expected_entries(navigation_entries)
    metrics = _navigation_metrics(navigation[0]) if navigation else {}
    paint = _expected_entries(paint_entries, expected=2)
    if paint:
        starts = {entry["name"]: entry["startTime"] for entry in paint}
        metrics["first_contentful_paint"] = starts["first-contentful-paint"]
        metrics["first_paint"] = starts["first-paint"]
    return {k: v if k in _NOT_TIMES else v / 1000 for k, v in metrics.items()}
