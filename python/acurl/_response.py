"""What came back: `Response` is native (`mite._native`); it keeps libcurl's bytes and numbers
and makes Python objects only for what is read (`body`, `headers`, `request`, ...)."""

from mite._native import Response

__all__ = ["Response"]
