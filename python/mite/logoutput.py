"""Message processors for local runs. The two defaults are served by the native pipeline: naming
them in `--message-processors` turns the native versions on, so no Python runs per message."""

import logging

__all__ = ["HttpStatsOutput", "MsgOutput", "DebugMessageOutput", "NATIVE"]


class HttpStatsOutput:
    """Request totals and percentiles every 2 s (native in `mite scenario test`)."""

    message_types = {"http_metrics", "selenium_page_load_metrics", "selenium_network_resource_metrics"}

    def __init__(self, opts):
        self._opts = opts


class MsgOutput:
    """Logs exceptions with their stack trace, and every message at DEBUG (native in local runs)."""

    def __init__(self, opts):
        self._logger = logging.getLogger("MSG")


class DebugMessageOutput:
    """Logs the text of `debug_console_message` messages (always on, native)."""

    def __init__(self, opts):
        self._logger = logging.getLogger("Debug Logger")


NATIVE = {"mite.logoutput:HttpStatsOutput": "console", "mite.logoutput:MsgOutput": "log_messages"}
