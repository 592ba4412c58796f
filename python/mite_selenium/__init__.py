"""Browser journeys over a remote WebDriver: `@mite_selenium` gives `ctx.browser` (and
`ctx.raw_webdriver`, selenium's own `Remote`) for the journey; each `ctx.browser.get(url)` sends
a `selenium_page_load_metrics` message built from the page's navigation and paint timings."""

import importlib
import logging
import socket
import time
from contextlib import asynccontextmanager
from copy import deepcopy
from functools import wraps

from mite.exceptions import MiteError
from mite.utils import SpecError, spec_import

from ._extra import MissingExtraError, missing
from ._metrics import page_load_metrics

try:
    import selenium
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver import Remote as SeleniumRemote
    from selenium.webdriver.remote.remote_connection import RemoteConnection
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait
except ModuleNotFoundError as e:
    if missing(e, "selenium", "selenium") is None:
        raise
    # The package still imports, so that its stats (which need no selenium) load as the
    # `mite_stats` entry point; decorating a journey raises the one-line error.
    _UNUSABLE = str(missing(e, "selenium", "selenium"))
else:
    _UNUSABLE = None
    # mite 2.11's journeys use selenium 3's API (`desired_capabilities=`, `find_element_by_*`),
    # which selenium 4 removed; say so at first use rather than fail inside every journey.
    if int(selenium.__version__.split(".")[0]) >= 4:
        _UNUSABLE = (
            f"mite_selenium drives selenium 3 (mite 2.11's API), not selenium "
            f'{selenium.__version__}: pip install "mite[selenium]"'
        )

__all__ = ["JsMetricsContext", "mite_selenium"]

logger = logging.getLogger(__name__)

# Seconds one WebDriver command may take. Selenium 3 leaves it to socket's default sentinel, which
# urllib3 2 rejects ("Timeout value connect was <object object ...>"); a number works with urllib3
# 1 and 2 alike, and a browser that stops answering fails the journey instead of hanging it.
# 120 s is selenium 4's default.
COMMAND_TIMEOUT = 120.0


def _require_selenium():
    if _UNUSABLE is not None:
        raise MissingExtraError(_UNUSABLE)


class _SeleniumWrapper:
    """`ctx.browser`: a selenium `Remote` configured from the context's config (every
    `webdriver_*` key except the executor address and keep-alive is a `module:attribute` spec)."""

    def __init__(self, context):
        _require_selenium()
        self._context = context
        self._command_executor = RemoteConnection(
            context.config.get("webdriver_command_executor", "http://127.0.0.1:4444/wd/hub"),
            resolve_ip=False,
        )
        if not isinstance(getattr(RemoteConnection, "_timeout", None), (int, float)):
            self._command_executor._timeout = COMMAND_TIMEOUT
        self._keep_alive = context.config.get("webdriver_keep_alive", False)
        self._file_detector = self._spec_import_if_not_none("webdriver_file_detector")
        self._proxy = self._spec_import_if_not_none("webdriver_proxy")
        self._browser_profile = self._spec_import_if_not_none("webdriver_browser_profile")
        # Copied: selenium adds to the options it is given, and the spec's object is shared.
        self._options = deepcopy(self._spec_import_if_not_none("webdriver_options"))
        # Required: without it the journey fails here with an `exception` message, as in mite
        # 2.11 (whose message was "'NoneType' object has no attribute 'split'").
        capabilities = context.config.get("webdriver_capabilities")
        if capabilities is None:
            raise SpecError(
                "webdriver_capabilities is not set: it names the capabilities, as module:attribute"
            )
        self._capabilities = spec_import(capabilities)

    def _spec_import_if_not_none(self, config_option):
        value = self._context.config.get(config_option, None)
        return spec_import(value) if value else value

    def _start(self):
        self._context.browser = self
        self._remote = SeleniumRemote(
            desired_capabilities=self._capabilities,
            command_executor=self._command_executor,
            browser_profile=self._browser_profile,
            proxy=self._proxy,
            keep_alive=self._keep_alive,
            file_detector=self._file_detector,
            options=self._options,
        )
        self._context.raw_webdriver = self._remote

    def _quit(self):
        if hasattr(self, "_remote"):
            self._remote.quit()

    def _browser_has_timing_capabilities(self):
        return self._remote.capabilities["browserName"] == "chrome"

    def _send_page_load_metrics(self):
        if not self._browser_has_timing_capabilities():
            return
        navigation = self._remote.execute_script(
            "return performance.getEntriesByType('navigation')"
        )
        paint = self._remote.execute_script("return performance.getEntriesByType('paint')")
        metrics = page_load_metrics(navigation, paint)
        if metrics:
            self._context.send("selenium_page_load_metrics", **metrics)

    def _retrieve_javascript_metrics(self):
        try:
            return self._remote.execute_script("return performance.getEntriesByType('resource')")
        except Exception:
            logger.error("Failed to retrieve resource performance entries")
            return []

    def _clear_resource_timings(self):
        self._remote.execute_script("performance.clearResourceTimings()")

    def get(self, url):
        """Loads `url` and sends its page-load metrics (Chrome only, as in mite 2.11)."""
        self._remote.get(url)
        self._send_page_load_metrics()

    def get_js_metrics_context(self):
        return JsMetricsContext(self)

    def wait_for_elements(self, locator, timeout=5):
        return self._wait_for(
            EC.presence_of_all_elements_located,
            locator,
            f"Timed out trying to find elements '{locator}' in the dom",
            timeout,
        )

    def wait_for_element(self, locator, timeout=5):
        return self._wait_for(
            EC.presence_of_element_located,
            locator,
            f"Timed out trying to find element '{locator}' in the dom",
            timeout,
        )

    def wait_for_url(self, locator, timeout=5):
        return self._wait_for(
            EC.url_to_be,
            locator,
            f"Timed out waiting for url to be '{locator}' in the dom",
            timeout,
        )

    def _wait_for(self, condition_func, locator, err_msg, timeout=5):
        try:
            return WebDriverWait(self._remote, timeout).until(condition_func(locator))
        except TimeoutException as te:
            raise MiteError(err_msg) from te

    def switch_to_default(self):
        self._remote.switch_to.default_content()

    def switch_to_iframe(self, locator):
        self._remote.switch_to.frame(self._remote.find_element(*locator))

    def switch_to_parent(self):
        self._remote.switch_to.parent_frame()

    @property
    def current_url(self):
        return self._remote.current_url


class JsMetricsContext:
    """`async with ctx.browser.get_js_metrics_context() as m`: clears the resource timings on
    entry; on exit `results` holds the resource entries and `execution_time` the block's seconds."""

    def __init__(self, browser):
        self._browser = browser
        self.results = None
        self.start_time = None
        self.execution_time = None

    async def __aenter__(self):
        self.start_time = time.time()
        self._browser._clear_resource_timings()

    async def __aexit__(self, exc_type, exc, tb):
        self.results = self._browser._retrieve_javascript_metrics()
        self.execution_time = time.time() - self.start_time


class _SeleniumWireWrapper(_SeleniumWrapper):
    """`ctx.browser` for `@mite_selenium(wire=True)`: selenium-wire's Remote, which records the
    browser's requests through its own proxy (`requests`, `wait_for_request`, interceptors)."""

    def __init__(self, context):
        super().__init__(context)
        self._seleniumwire_options = self._spec_import_if_not_none("seleniumwire_options") or {}

    def _start(self):
        module = importlib.import_module("seleniumwire.webdriver")
        self._context.browser = self
        # The proxy listens where a remote browser can reach it: this machine's address, unless
        # the options name one (mite 2.11 always overrode it).
        addr = self._seleniumwire_options.get("addr") or socket.gethostbyname(socket.gethostname())
        self._remote = module.Remote(
            desired_capabilities=self._capabilities,
            command_executor=self._command_executor,
            browser_profile=self._browser_profile,
            proxy=self._proxy,
            keep_alive=self._keep_alive,
            file_detector=self._file_detector,
            options=self._options,
            seleniumwire_options={**self._seleniumwire_options, "addr": addr},
        )
        logger.debug(f"Selenium-wire machine IP: {addr}")
        self._context.raw_webdriver = self._remote

    def wait_for_request(self, url, timeout=5):
        return self._remote.wait_for_request(url, timeout)

    @property
    def requests(self):
        return self._remote.requests

    def add_request_interceptor(self, request_interceptor):
        self._remote.request_interceptor = request_interceptor


@asynccontextmanager
async def _selenium_context_manager(context, wire):
    sw = _SeleniumWireWrapper(context) if wire else _SeleniumWrapper(context)
    try:
        sw._start()
        yield
    finally:
        try:
            sw._quit()
        finally:
            # The context outlives nothing here, but a fixture's context does: no stale browser.
            for attribute in ("browser", "raw_webdriver"):
                if getattr(context, attribute, None) is not None:
                    delattr(context, attribute)


# selenium-wire 4.6.5 (archived) imports only beside these 2022 releases, so no extra ships it.
_SELENIUM_WIRE_INSTALL = (
    'pip install selenium-wire==4.6.5 "blinker<1.8" "pyOpenSSL<22.1" "cryptography<39"'
)


def _require_seleniumwire():
    try:
        importlib.import_module("seleniumwire.webdriver")
    except ModuleNotFoundError as e:
        error = missing(e, "seleniumwire", None, "mite_selenium(wire=True)", _SELENIUM_WIRE_INSTALL)
        raise (error or e) from None


def mite_selenium(*args, wire=False):
    """`@mite_selenium` or `@mite_selenium(wire=True)`: the journey runs with `ctx.browser`."""

    _require_selenium()

    def wrapper_factory(func):
        if wire:
            _require_seleniumwire()

        @wraps(func)
        async def wrapper(ctx, *args, **kwargs):
            async with _selenium_context_manager(ctx, wire):
                return await func(ctx, *args, **kwargs)

        return wrapper

    if len(args) == 0:
        return wrapper_factory
    if len(args) > 1 or not callable(args[0]):
        raise TypeError(
            "mite_selenium decorates one journey function: @mite_selenium or @mite_selenium(wire=True)"
        )
    return wrapper_factory(args[0])
