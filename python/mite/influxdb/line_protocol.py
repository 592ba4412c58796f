"""InfluxDB line protocol: one `InfluxPoint` to one line, written as mite 2.11's client writes it."""

import math
from dataclasses import dataclass

__all__ = ["InfluxPoint", "to_line", "to_body"]

# The escapes of influxdb-client, which mite 2.11 writes through; the same points make the same
# bytes here, so series and tag values in existing dashboards keep their names.
_ESCAPE_MEASUREMENT = str.maketrans({",": r"\,", " ": r"\ ", "\n": r"\n", "\t": r"\t", "\r": r"\r"})
_ESCAPE_KEY = str.maketrans(
    {",": r"\,", "=": r"\=", " ": r"\ ", "\n": r"\n", "\t": r"\t", "\r": r"\r"}
)
_ESCAPE_STRING = str.maketrans({'"': r"\"", "\\": r"\\"})


@dataclass
class InfluxPoint:
    measurement: str
    tags: dict
    fields: dict
    time_ns: int


def _tag_value(value):
    # Tag values are Python's str() of the label value (b'GET', True), as in mite 2.11.
    text = str(value).translate(_ESCAPE_KEY)
    # A trailing backslash would escape the separator after it.
    return text + " " if text.endswith("\\") else text


def _tags(tags):
    parts = []
    for key, value in sorted(tags.items()):
        if value is None:
            continue
        key, value = str(key).translate(_ESCAPE_KEY), _tag_value(value)
        # The server rejects empty tag keys and values; the client drops them.
        if key and value:
            parts.append(f"{key}={value}")
    return "".join("," + p for p in parts)


def _field(value):
    """The field's text, or None for a value line protocol cannot carry (NaN, infinity, None)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return f"{value}i"
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        text = str(value)
        # Whole floats lose the ".0" (still a float to the server: no `i` suffix).
        return text[:-2] if text.endswith(".0") else text
    if isinstance(value, str):
        return '"' + value.translate(_ESCAPE_STRING) + '"'
    raise ValueError(
        f"field value {value!r} of type {type(value).__name__} cannot be written to InfluxDB"
    )


def to_line(point):
    """The point's line (no newline), or "" when it has no field that can be written."""
    fields = []
    for key, value in sorted(point.fields.items()):
        text = _field(value)
        if text is not None:
            fields.append(f"{str(key).translate(_ESCAPE_KEY)}={text}")
    if not fields:
        return ""
    measurement = str(point.measurement).translate(_ESCAPE_MEASUREMENT)
    return f"{measurement}{_tags(point.tags)} {','.join(fields)} {int(point.time_ns)}"


def to_body(points):
    """The request body for a batch: lines joined by newlines, as UTF-8."""
    return "\n".join(line for line in map(to_line, points) if line).encode("utf-8")
