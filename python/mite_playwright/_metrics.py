"""The `playwright_page_load_metrics` and `playwright_paint_metrics` messages of one response."""

import logging

logger = logging.getLogger("mite_playwright")

# Waits for the first contentful paint for at most 500 ms (mite 2.11 always slept 500 ms), then
# reads paint and navigation timings. mite 2.11 measured from `nav.navigationStart`, which
# navigation entries do not have, so its js_onload_time and time_to_interactive were always NaN;
# a navigation entry's own origin is its `startTime`.
_PAINT_AND_NAVIGATION = """
async () => {
    const painted = () => performance.getEntriesByType('paint')
        .some(entry => entry.name === 'first-contentful-paint');
    if (!painted()) {
        await new Promise(resolve => {
            const timer = setTimeout(resolve, 500);
            new PerformanceObserver((list, observer) => {
                if (painted()) { clearTimeout(timer); observer.disconnect(); resolve(); }
            }).observe({type: 'paint', buffered: true});
        });
    }
    const result = {};
    performance.getEntriesByType('paint').forEach(entry => {
        if (entry.name === 'first-paint') {
            result.first_paint = entry.startTime / 1000;
        } else if (entry.name === 'first-contentful-paint') {
            result.first_contentful_paint = entry.startTime / 1000;
        }
    });
    const nav = performance.getEntriesByType('navigation')[0];
    if (nav) {
        result.js_onload_time = (nav.loadEventEnd - nav.startTime) / 1000;
        result.render_time = (nav.loadEventEnd - nav.responseEnd) / 1000;
        result.time_to_interactive = (nav.domInteractive - nav.startTime) / 1000;
        let totalSize = nav.transferSize || 0;
        performance.getEntriesByType('resource').forEach(resource => {
            totalSize += resource.transferSize || 0;
        });
        result.page_weight = totalSize;
    }
    return result;
}
"""


def _timing_metrics(timing):
    """Seconds, from Playwright's request timing (milliseconds; -1 where a phase did not happen)."""
    connect_start = timing.get("connectStart", 0)
    connect_end = timing.get("connectEnd", 0)
    secure_start = timing.get("secureConnectionStart", 0)
    request_start = timing.get("requestStart", 0)
    response_start = timing.get("responseStart", 0)
    response_end = timing.get("responseEnd", 0)
    if secure_start > 0:
        tcp_time = (secure_start - connect_start) / 1000
        tls_time = (connect_end - secure_start) / 1000
    else:
        tcp_time = (connect_end - connect_start) / 1000
        tls_time = 0
    return {
        "dns_lookup_time": (timing.get("domainLookupEnd", 0) - timing.get("domainLookupStart", 0))
        / 1000,
        "tcp_time": tcp_time,
        "tls_time": tls_time,
        "time_to_first_byte": (response_start - request_start) / 1000,
        "time_to_last_byte": (response_end - request_start) / 1000,
        "total_time": (response_end - request_start) / 1000,
        "request_start_time": request_start / 1000,
        "response_start_time": response_start / 1000,
        "response_end_time": response_end / 1000,
    }


def _paint_fields(data):
    # JavaScript numbers arrive as int when whole; times are always floats, as in mite 2.11.
    return {k: v if k == "page_weight" else float(v) for k, v in data.items()}


async def collect_metrics(response, context):
    """Sends the response's page-load metrics, then its page's paint metrics; a failure to
    measure is logged, never raised (as in mite 2.11)."""
    try:
        metrics = {"url": response.url, "status": response.status}
        if response.request and response.request.timing:
            metrics.update(_timing_metrics(response.request.timing))
        content_length = response.headers.get("content-length", "0")
        metrics["response_size"] = int(content_length) if content_length.isdigit() else 0
        context.send("playwright_page_load_metrics", **metrics)

        if hasattr(response, "frame") and hasattr(response.frame, "page"):
            paint_data = await response.frame.page.evaluate(_PAINT_AND_NAVIGATION)
            if paint_data:
                context.send("playwright_paint_metrics", **_paint_fields(paint_data))
    except Exception as e:
        logger.warning(f"Metrics collection failed: {e}")
