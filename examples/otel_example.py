"""A traced scenario: `checkout` journeys are OpenTelemetry traces (journey -> transaction ->
HTTP request spans, each request carrying a W3C `traceparent` header); `health` journeys are
plain `@mite_http` and make no spans. Runs ~6 s.

Needs a target (`python target_server.py 8765 &`) and a collector accepting OTLP/HTTP on 4318
(e.g. Jaeger: `docker run -p 16686:16686 -p 4318:4318 jaegertracing/all-in-one`), then:

    MITE_CONF_OTEL_ENABLED=true MITE_CONF_OTEL_SPAN_PROCESSOR=otlp \
    MITE_CONF_OTEL_OTLP_ENDPOINT=http://127.0.0.1:4318/v1/traces \
    MITE_CONF_target=http://127.0.0.1:8765 mite scenario test otel_example:scenario

Without a collector, MITE_CONF_OTEL_SPAN_PROCESSOR=console prints the spans instead; without
MITE_CONF_OTEL_ENABLED the same journeys run untraced. One journey on its own, three times:
`mite journey test otel_example:checkout otel_example:three_products`.
"""

from mite.datapools import IterableDataPool, RecyclableIterableDataPool
from mite.otel import mite_http_traced
from mite.scenario import StopVolumeModel
from mite_http import mite_http

products = RecyclableIterableDataPool([(n,) for n in range(1, 51)])
three_products = IterableDataPool([(n,) for n in range(1, 4)])


def _target(ctx):
    return ctx.config.get("target", "http://127.0.0.1:8765")


@mite_http_traced
async def checkout(ctx, product):
    target = _target(ctx)
    async with ctx.transaction("browse"):
        resp = await ctx.http.get(f"{target}/products/{product}")
        assert resp.status_code == 200, resp.status_code
    async with ctx.transaction("add to basket"):
        resp = await ctx.http.post(f"{target}/basket", json={"product": product})
        assert resp.status_code in (200, 201), resp.status_code


@mite_http
async def health(ctx):
    resp = await ctx.http.get(f"{_target(ctx)}/health")
    assert resp.status_code == 200, resp.status_code


def _for(seconds, tps):
    def model(start, end):
        if start >= seconds:
            raise StopVolumeModel
        return tps

    return model


def scenario():
    return [
        ["otel_example:checkout", products, _for(6, 2)],
        ["otel_example:health", None, _for(6, 1)],
    ]
