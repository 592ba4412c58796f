"""Errors a journey raises on purpose; the context reports them as `error` messages."""


class MiteError(Exception):
    """A journey failure; the keyword fields are copied into the `error` message sent for it."""

    def __init__(self, message, **fields):
        super().__init__(message)
        self.fields = fields


class InfluxConfigError(MiteError):
    """Bad settings for the InfluxDB processor (kept because 2.11.0 publishes it)."""

    def __init__(self, message, **fields):
        super().__init__(message, **fields)
