"""Whether the running code is inside a traced journey (a ContextVar, so each journey task
has its own answer)."""

from contextvars import ContextVar

__all__ = ["in_traced_journey", "is_in_traced_journey"]

in_traced_journey: ContextVar[bool] = ContextVar("in_traced_journey", default=False)


def is_in_traced_journey() -> bool:
    """True inside a `@mite_http_traced` (or `@trace_journey`) journey."""
    return in_traced_journey.get()
