"""Test configuration: the controller's versioned key/value store and the default env loader."""

import logging
import os
from itertools import count

logger = logging.getLogger(__name__)


class ConfigManager:
    """Config shared with runners; every `set` gets a new version so each runner is sent only news."""

    def __init__(self):
        self._version_id_gen = count(1)
        self._version = 0
        # name -> (value, version at which it was last set)
        self._config = {}
        self._runner_version_map = {}

    def _get_changes_since(self, version):
        for key, (value, value_version) in self._config.items():
            if value_version > version:
                yield key, value

    def get_changes_for_runner(self, runner_id):
        """The `(key, value)` pairs set since this runner last asked (all of them the first time)."""
        version = self._runner_version_map.get(runner_id, 0)
        self._runner_version_map[runner_id] = self._version
        return list(self._get_changes_since(version))

    def set(self, name, value):
        self._version = next(self._version_id_gen)
        self._config[name] = (value, self._version)

    def get(self, name, default=None):
        if name in self._config:
            return self._config[name][0]
        return default

    def __repr__(self):
        # mite 2.11's format, odd " ," separator and (value, version) pairs
        # included, so log lines read the same.
        items = " ,".join(f"{k}={v}" for k, v in self._config.items())
        return f"ConfigManager(version={self._version}, {items})"

    def __str__(self):
        return self.__repr__()


def default_config_loader():
    """Config from the environment: `MITE_CONF_<key>` as a string, `MITE_EVAL_CONF_<key>` through eval."""
    result = {}
    for name, value in os.environ.items():
        if name.startswith("MITE_CONF_"):
            key = name[len("MITE_CONF_") :]
            logger.debug('Setting config "%s" from environment variable', key)
            result[key] = value
        if name.startswith("MITE_EVAL_CONF_"):
            key = name[len("MITE_EVAL_CONF_") :]
            logger.debug('Setting config "%s" by eval\'ing environment variable', key)
            result[key] = eval(value)
    return result
