"""`mite.cli.receiver`: mite 2.11's generic receiver, a `mite.zmq.Receiver` feeding the
`--processor` classes' `process_message` (decoded) and `process_raw_message` (raw frame)."""

import logging

from ..utils import _msg_backend_module, spec_import
from .serve import log_totals, run_until_stopped

logger = logging.getLogger(__name__)


def _create_handler(processor_spec):
    """The processor object and its two methods, or None after logging why it cannot be used."""
    handler_class = spec_import(processor_spec)
    try:
        handler = handler_class()
    except TypeError as e:
        logger.error("Error with processor '%s': it could not be created: %s", processor_spec, e)
        return None
    process_message = getattr(handler, "process_message", None)
    process_raw_message = getattr(handler, "process_raw_message", None)
    usable = [m for m in (process_message, process_raw_message) if m is not None]
    if not usable or not all(callable(m) for m in usable):
        logger.error(
            "Error with processor '%s': processors must have one or both of 'process_message' "
            "and 'process_raw_message' methods",
            processor_spec,
        )
        return None
    return handler, process_message, process_raw_message


def generic_receiver(opts):
    """Feeds every frame on RECEIVE_SOCKET to the processors until stopped. Returns 2 (after
    logging why) when a processor cannot be used, as 2.11 returned before receiving."""
    receiver = _msg_backend_module(opts).Receiver()
    receiver.connect(opts["RECEIVE_SOCKET"])
    for processor_spec in opts["--processor"]:
        created = _create_handler(processor_spec)
        if created is None:
            return 2
        _, process_message, process_raw_message = created
        if process_message is not None:
            receiver.add_listener(process_message)
        if process_raw_message is not None:
            # 2.11 registered this as a decoded-message listener; the name promises the frame.
            receiver.add_raw_listener(process_raw_message)
    run_until_stopped(receiver.run)
    if isinstance(getattr(receiver, "counts", None), dict):
        log_totals("receiver", receiver.counts)
    return 0
