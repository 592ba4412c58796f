"""InfluxDB output for stats: `mite influxdb_exporter`, `mite influxdb init` and `--influxdb=N`.

Pure Python over the standard library: line protocol (`line_protocol`), the `INFLUXDB_*`
settings (`settings`), HTTP (`http`), the writer thread (`writer`), the stats model (`stats`)
and the dump-to-points buffer (`metrics`). mite 2.11's names are re-exported from
`mite.web.influxdb` and `mite.influxdb_processor`.
"""

from .line_protocol import InfluxPoint
from .metrics import InfluxDataLost, InfluxMetrics
from .settings import Destination, destination, suffix_for
from .stats import INFLUX_STAT_TYPES, InfluxCounter, InfluxGauge, InfluxHistogram, InfluxStat
from .writer import InfluxdbWriter

__all__ = [
    "INFLUX_STAT_TYPES",
    "Destination",
    "InfluxCounter",
    "InfluxDataLost",
    "InfluxGauge",
    "InfluxHistogram",
    "InfluxMetrics",
    "InfluxPoint",
    "InfluxStat",
    "InfluxdbWriter",
    "destination",
    "suffix_for",
]
