"""`mite.cli.collector`: mite 2.11's collector function, a `mite.zmq.Receiver` feeding
`mite.collector.Collector` (the `mite collector` command runs the all-native collector)."""

from ..collector import Collector
from ..utils import _msg_backend_module, spec_import
from .serve import log_totals, run_until_stopped


def _collector_receiver(opts):
    receiver = _msg_backend_module(opts).Receiver()
    receiver.connect(opts["--collector-socket"])
    return receiver


def collector(opts):
    """Writes every frame on `--collector-socket` under `--collector-dir` until stopped."""
    receiver = _collector_receiver(opts)
    filter_fn = None
    if filter_fn_spec := opts.get("--collector-filter"):
        filter_fn = spec_import(filter_fn_spec)
    collector = Collector(
        target_dir=opts["--collector-dir"],
        roll_after=int(opts["--collector-roll"]),
        filter_fn=filter_fn,
        use_json=bool(opts.get("--collector-use-json")),
    )
    receiver.add_raw_listener(collector.process_raw_message)
    run_until_stopped(receiver.run)
    if isinstance(getattr(receiver, "counts", None), dict):
        log_totals("collector", receiver.counts)
    return 0
