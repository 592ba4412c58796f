"""Type stubs for the native extension `mite._native`."""

from collections.abc import Awaitable, Callable, Iterable, Mapping
from contextvars import ContextVar
from typing import Any

__version__: str
active_transaction: ContextVar[tuple[str, int]]

def pack_msg(msg: Any) -> bytes: ...
def unpack_msg(msg: bytes) -> Any: ...
def main(argv: list[str]) -> int: ...
def plan_work(
    required: Mapping[int, int],
    current: Mapping[int, int],
    runner_current: int,
    num_runners: int,
    runner_max: int | None,
    spawn_rate: float | None,
    hit_rate: float,
) -> tuple[list[int], int]: ...

class Ready:
    def __await__(self) -> Ready: ...
    def __next__(self) -> None: ...

class Transaction:
    async def __aenter__(self) -> None: ...
    async def __aexit__(self, exc_type: Any, exc: Any, tb: Any) -> None: ...

class Context:
    def __init__(
        self,
        send_fn: Callable[[dict[str, Any]], Any] | MessageSink,
        config: Any,
        id_data: dict[str, Any] | None = None,
        should_stop_func: Callable[[], bool] | None = None,
        debug: bool = False,
    ) -> None: ...
    @property
    def config(self) -> Any: ...
    @property
    def should_stop(self) -> bool: ...
    def send(self, type: str, **msg: Any) -> None: ...
    def transaction(self, name: str) -> Transaction: ...
    def __getattr__(self, name: str) -> Any: ...

class MessageSink:
    sent: int
    def send(self, msg: Any) -> None: ...
    def send_raw(self, raw: bytes) -> None: ...
    def collect(self, raw: bytes, keep: bool) -> None: ...
    def take_tapped(self) -> list[bytes]: ...

class LocalPipeline:
    sink: MessageSink
    def __init__(
        self,
        *,
        collector_dir: str | None = None,
        collector_roll: int = 100000,
        collector_use_json: bool = False,
        collector_filtered: bool = False,
        recorder_dir: str | None = None,
        console: bool = True,
        hide_constant_logs: bool = False,
        journey_logging: bool = False,
        log_messages: bool = True,
        tap: bool = False,
        keep_samples: bool = False,
    ) -> None: ...
    def finish(
        self,
        *,
        report: bool,
        max_errors: int = 0,
        max_response_time_ms: int = 0,
        mean_response_time_ms: int = 0,
        stddev_response_time_ms: int = 0,
        stddev_req_sec: int = 0,
        percentiles: list[tuple[int, int]] = ...,
    ) -> dict[str, Any]: ...

class RunnerCore:
    should_stop: bool
    def __init__(
        self,
        sink: Any,
        config: dict[str, Any],
        test: str,
        runner_id: int,
        create_task: Callable[[Awaitable[Any]], Any],
        spec_import: Callable[[str], Any],
        wrapper: Callable[..., Awaitable[Any]],
        debug: bool = False,
    ) -> None: ...
    def spawn(self, work: Iterable[tuple[int, Any, str, Any]]) -> None: ...
    def current_work(self) -> dict[int, int]: ...
    def running(self) -> int: ...
    def take_completed(self) -> list[tuple[int, Any]]: ...
    def set_waiter(self, fut: Any) -> None: ...
    def take_fatal(self) -> BaseException | None: ...
    def set_stop(self, stop: bool) -> None: ...

class WorkTracker:
    def set_actual(self, runner_id: int, work: Mapping[int, int]) -> None: ...
    def add_assumed(self, runner_id: int, work: Mapping[int, int]) -> None: ...
    def get_total_work(self, runner_ids: list[int]) -> dict[int, int]: ...
    def get_runner_total(self, runner_id: int) -> int: ...
    def remove_runner(self, runner_id: int) -> None: ...

class RunnerTracker:
    def __init__(self, timeout: float = 10.0) -> None: ...
    def update(self, runner_id: int) -> None: ...
    def get_hit_rate(self) -> float: ...
    def remove_runner(self, runner_id: int) -> None: ...
    def get_active(self) -> list[int]: ...
    def get_active_count(self) -> int: ...

class Collector:
    def __init__(
        self,
        target_dir: str | None = None,
        roll_after: int = 100000,
        collector_id: Any = None,
        filter_fn: Callable[[bytes], bool] | None = None,
        use_json: bool = False,
    ) -> None: ...
    def process_raw_message(self, raw: bytes) -> None: ...

class Recorder:
    def __init__(self, target_dir: str | None = None) -> None: ...
    def process_message(self, msg: dict[str, Any]) -> None: ...

class RawResponse:
    status_code: int
    url: str
    redirect_url: str | None
    header: str
    body: bytes
    total_time: float
    namelookup_time: float
    connect_time: float
    appconnect_time: float
    pretransfer_time: float
    starttransfer_time: float
    download_size: float
    upload_size: float
    primary_ip: str
    start_time: int
    def headers_tuple(self) -> tuple[tuple[str, str], ...]: ...
    def send_metrics(self, ctx: Context, method: bytes, extra: dict[str, Any] | None = None) -> None: ...

class CurlEngine:
    fd: int
    in_flight: int
    def __init__(self, loop_: Any, inline: bool = False) -> None: ...
    def open_session(self) -> int: ...
    def close_session(self, session: int) -> None: ...
    def cookies(self, session: int) -> list[str]: ...
    def erase_cookies(self, session: int) -> None: ...
    def request(
        self,
        session: int,
        method: bytes,
        url: str,
        headers: Iterable[bytes] | None = None,
        cookies: Iterable[bytes] | None = None,
        auth: tuple[str, str] | None = None,
        data: bytes | None = None,
        cert: tuple[str, str] | None = None,
        timeout: float | None = None,
        http_version: str | None = None,
        verify: bool = False,
    ) -> Awaitable[RawResponse]: ...
    def drain(self) -> None: ...
    def close(self) -> None: ...
