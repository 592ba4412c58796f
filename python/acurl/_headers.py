"""Dicts whose string keys are case-insensitive (stored lower-case), as acurl's."""

from collections import defaultdict


class _CaseInsensitive:
    @staticmethod
    def _k(key):
        return key.lower() if isinstance(key, str) else key

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for k in list(self.keys()):
            v = super().pop(k)
            super().__setitem__(self._k(k), v)

    def __getitem__(self, key):
        return super().__getitem__(self._k(key))

    def __setitem__(self, key, value):
        super().__setitem__(self._k(key), value)

    def __delitem__(self, key):
        super().__delitem__(self._k(key))

    def __contains__(self, key):
        return super().__contains__(self._k(key))

    def get(self, key, *args):
        return super().get(self._k(key), *args)

    def pop(self, key, *args):
        return super().pop(self._k(key), *args)

    def setdefault(self, key, *args):
        return super().setdefault(self._k(key), *args)

    def update(self, other=None, **kwargs):
        super().update(type(self)(other or {}, **kwargs))


# acurl 1.2.1's name for the mixin.
_CaseInsensitiveDict = _CaseInsensitive


class CaseInsensitiveDict(_CaseInsensitive, dict):
    pass


class CaseInsensitiveDefaultDict(_CaseInsensitive, defaultdict):
    pass
