"""mite 2.11's `mite.web.influxdb` names; the InfluxDB output itself lives in `mite.influxdb`."""

from ..influxdb import (
    INFLUX_STAT_TYPES,
    InfluxCounter,
    InfluxdbWriter,
    InfluxGauge,
    InfluxHistogram,
    InfluxMetrics,
    InfluxPoint,
    InfluxStat,
)

__all__ = [
    "INFLUX_STAT_TYPES",
    "InfluxCounter",
    "InfluxGauge",
    "InfluxHistogram",
    "InfluxMetrics",
    "InfluxPoint",
    "InfluxStat",
    "InfluxdbWriter",
]
