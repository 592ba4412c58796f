"""What came back: `Response` is native (`mite._native`); it keeps libcurl's bytes and numbers
and makes Python objects only for what is read (`body`, `headers`, `request`, ...).
`_Response` is acurl 1.2.1's name for the same class (its only name there)."""

from mite._native import Response

_Response = Response

__all__ = ["Response", "_Response"]
