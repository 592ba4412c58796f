"""Mite Load Test Framework.

Usage:
    mite [options] scenario test [--add-to-config=NEW_VALUE]... [--message-processors=PROCESSORS] [--memory-tracing] [--influxdb=N] [--runners=RUNNERS] [--threshold=EXPR]... SCENARIO_SPEC
    mite [options] journey test [--add-to-config=NEW_VALUE]... [--message-processors=PROCESSORS] [--memory-tracing] [--influxdb=N] [--runners=RUNNERS] [--threshold=EXPR]... JOURNEY_SPEC [DATAPOOL_SPEC]
    mite [options] journey run [--add-to-config=NEW_VALUE]... [--message-processors=PROCESSORS] [--threshold=EXPR]... JOURNEY_SPEC [DATAPOOL_SPEC]
    mite [options] controller SCENARIO_SPEC [--message-socket=SOCKET] [--controller-socket=SOCKET] [--logging-webhook=URL] [--add-to-config=NEW_VALUE]...
    mite [options] runner [--message-socket=SOCKET] [--controller-socket=SOCKET]
    mite [options] duplicator [--message-socket=SOCKET] OUT_SOCKET...
    mite [options] collector [--collector-socket=SOCKET] [--collector-filter=SPEC] [--collector-roll=NUM_LINES] [--collector-dir=DIRECTORY] [--collector-use-json]
    mite [options] recorder [--recorder-socket=SOCKET]
    mite [options] stats [--stats-in-socket=SOCKET] [--stats-out-socket=SOCKET] [--stats-include-processors=PROCESSORS] [--stats-exclude-processors=PROCESSORS]
    mite [options] receiver RECEIVE_SOCKET [--processor=PROCESSOR]...
    mite [options] prometheus_exporter [--stats-out-socket=SOCKET] [--web-address=HOST_PORT]
    mite [options] influxdb_exporter [--stats-out-socket=SOCKET]
    mite [options] har HAR_FILE_PATH CONVERTED_FILE_PATH [--sleep-time=SLEEP]
    mite [options] cat [--prettify-timestamps] MSGPACK_FILE_PATH
    mite [options] uncat
    mite [options] influxdb init [--influxdb=N]
    mite [options] report [--threshold=EXPR]... COLLECTOR_DIR

    mite --help
    mite --version

Arguments:
    SCENARIO_SPEC           Identifier for a scenario in the form package_path:callable_name
    CONFIG_SPEC             Identifier for config callable returning dict of config
    JOURNEY_SPEC            Identifier for journey async callable
    VOLUME_MODEL_SPEC       Identifier for volume model callable
    HAR_FILE_PATH           Path for the har file to convert into a mite journey
    CONVERTED_FILE_PATH     Path to write the converted mite script to when converting a har file
    PROCESSOR               Class for message handling, must have either process_message or process_raw_message methods
    N                       Number of InfluxDB write destinations
    COLLECTOR_DIR           A collector's output folder to report on (see --collector-dir)
    EXPR                    A threshold: [TRANSACTION:]METRIC OP VALUE, e.g. checkout:p(95)<250ms (docs/RESULTS.md)

Examples:
    # run the example scenario called "scenario"
    mite scenario test mite.example:scenario

    # run the example journey called "journey" and set the "test_msg" config variable to "Hello from mite"
    MITE_CONF_test_msg="Hello from mite" mite journey test mite.example:journey mite.example:datapool

    # run the example journey called "journey" and set the "test_msg" config variable to "Hello from mite" using
    # the --add-to-config switch
    mite journey test mite.example:journey mite.example:datapool --add-to-config=test_msg:"Hello from mite"

    # Individual mite components can be started in the following example manner
    # start a mite runner that is controlled by a mite controller on 10.11.12.13:14301 that outputs to
    # the controller on 14302
    mite runner --controller-socket=tcp://10.11.12.13:14301 --message-socket=tcp://10.11.12.13:14302

    # start a mite controller for the above runners
    mite controller mite.example:scenario --controller-socket=tcp://0.0.0.0:14301

    # start a mite duplicator that listens on 14302 and outputs on 14303 and 14304
    mite duplicator --message-socket=tcp://0.0.0.0:14302 tcp://127.0.0.1:14303 tcp://127.0.0.1:14304

    # start mite stats
    mite stats --stats-in-socket=tcp://0.0.0.0:14303 --stats-out-socket=tcp://0.0.0.0:14305


Options:
    -h --help                                               Show this screen
    --version                                               Show version
    --debugging                                             Drop into debugger (pdb) on journey error and exit.  Select debugger with PYTHONBREAKPOINT and PYTHONPOSTMORTEM
    --memory-tracing                                        Print heap alloc diffs every 60 seconds
    --log-level=LEVEL                                       Set logger level, one of DEBUG, INFO, WARNING, ERROR, CRITICAL [default: INFO]
    --config=CONFIG_SPEC                                    Set a config loader to a callable loaded via a spec [default: mite.config:default_config_loader]
    --add-to-config=NEW_VALUE                               Add a key:value to the config map, in addition to what's loaded from a file
    --spawn-rate=NUM_PER_SECOND                             Maximum spawn rate [default: 1000]
    --max-loop-delay=SECONDS                                Runner internal loop delay maximum [default: 1]
    --min-loop-delay=SECONDS                                Runner internal loop delay minimum [default: 0]
    --runner-max-journeys=NUMBER                            Max number of concurrent journeys a runner can run
    --runners=RUNNERS                                       Runner processes for scenario test and journey test: a number, or auto for one per core [default: 1]
    --controller-socket=SOCKET                              Controller socket [default: tcp://127.0.0.1:14301]
    --message-socket=SOCKET                                 Message socket [default: tcp://127.0.0.1:14302]
    --collector-socket=SOCKET                               Socket [default: tcp://127.0.0.1:14303]
    --stats-in-socket=SOCKET                                Socket [default: tcp://127.0.0.1:14304]
    --stats-out-socket=SOCKET                               Socket [default: tcp://127.0.0.1:14305]
    --stats-include-processors=PROCESSORS                   Stats processor names to include, as a comma separated list (no spaces)
    --stats-exclude-processors=PROCESSORS                   Stats processor names to exclude, as a comma separated list (no spaces)
    --recorder-socket=SOCKET                                Socket [default: tcp://127.0.0.1:14306]
    --delay-start-seconds=DELAY                             Delay start allowing others to connect [default: 0]
    --volume=VOLUME                                         Volume to run journey at [default: 1]
    --web-address=HOST_PORT                                 Web bind address [default: 127.0.0.1:9301]
    --message-backend=BACKEND                               Backend to transport messages over [default: ZMQ]
    --exclude-working-directory                             By default mite puts the current directory on the python path
    --collector-dir=DIRECTORY                               Set the collectors output directory [default: collector_data]
    --collector-filter=SPEC                                 Function spec to filter messages collected by the collector
    --collector-roll=NUM_LINES                              How many lines per collector output file [default: 100000]
    --collector-use-json                                    Output in json format rather than msgpack
    --recorder-dir=DIRECTORY                                Set the recorders output directory [default: recorder_data]
    --sleep-time=SLEEP                                      Set the second to await between each request [default: 1]
    --logging-webhook=URL                                   URL of an HTTP server to log test runs to
    --message-processors=PROCESSORS                         Classes to connect to the message bus for local testing [default: mite.logoutput:HttpStatsOutput,mite.logoutput:MsgOutput]
    --prettify-timestamps                                   Reformat unix timestamps to human readable dates
    --journey-logging                                       Log errors on a per journey basis
    --report                                                Report stats at the end of the test
    --hide-constant-logs                                    Hide logs that are printed every 2 seconds
    --max-errors-threshold=THRESHOLD                        Set the maximum number of errors accepted before setting exit status to 1 [default: 0]
    --max-response-time-threshold=THRESHOLD                 Set the maximum response time accepted before setting exit status to 1 [default: 0]
    --mean-response-time-threshold=THRESHOLD                Set the mean response time accepted before setting exit status to 1 [default: 0]
    --standard-deviation-response-time-threshold=THRESHOLD  Set the response time standard deviation accepted before setting exit status to 1 [default: 0]
    --standard-deviation-req-sec-threshold=THRESHOLD        Set the request per second standard deviation accepted before setting exit status to 1 [default: 0]
    --benchmark-percentiles=NEW_VALUE                       Percentiles(int):threshold(int in milliseconds) pairs separated by commas [default: 50:0,90:0,98:0,99:0]
    --influxdb=N                                            Send stats to N number of InfluxDB instances
    --include-buckets                                       Include histogram buckets when sending stats to InfluxDB
    --json-summary=PATH                                     Write the run's numbers as JSON (schema in docs/RESULTS.md)
    --html-report=PATH                                      Write a self-contained HTML report with charts
    --threshold=EXPR                                        Set exit status to 1 unless EXPR holds for the run; repeatable
"""

# The docstring above is mite 2.11.0's command-line grammar, which scripts parse with
# `docopt(mite.__main__.__doc__, argv)`; `mite --help` prints the same text (a test compares).
# The command line itself is parsed natively (src/cli); the functions below are mite 2.11's
# names for each command, taking docopt's option map, for code that imports them.

import json
import logging
import os
import sys
import threading

from .cli import receiver, stats
from .cli.cat import uncat
from .cli.collector import collector
from .cli.common import (
    _create_config_manager,
    _create_runner,
    _create_scenario_manager,
    _get_scenario_with_kwargs,
)
from .cli.duplicator import duplicator
from .controller import Controller
from .har_to_mite import har_convert_to_mite
from .recorder import Recorder
from .utils import _msg_backend_module

__all__ = [
    "main",
    "controller",
    "runner",
    "duplicator",
    "collector",
    "recorder",
    "stats",
    "receiver",
    "prometheus_exporter",
    "influxdb_exporter",
    "influxdb_init",
    "setup_logging",
    "configure_python_path",
    "har_converter",
    "cat",
    "uncat",
    "scenario_cmd",
    "journey_cmd",
    "Controller",
    "Recorder",
    "_create_config_manager",
    "_create_runner",
    "_create_scenario_manager",
    "_get_scenario_with_kwargs",
]

logger = logging.getLogger(__name__)

LOG_FORMAT = "[%(asctime)s] <%(levelname)s> [%(name)s] [%(pathname)s:%(lineno)d %(funcName)s] %(message)s"


def _create_sender(opts):
    sender = _msg_backend_module(opts).Sender()
    sender.connect(opts["--message-socket"])
    return sender


def _recorder_receiver(opts):
    receiver = _msg_backend_module(opts).Receiver()
    receiver.connect(opts["--recorder-socket"])
    return receiver


def _create_prometheus_exporter_receiver(opts):
    receiver = _msg_backend_module(opts).Receiver()
    receiver.bind(opts["--stats-out-socket"])
    return receiver


def _create_influxdb_exporter_receiver(opts):
    receiver = _msg_backend_module(opts).Receiver()
    receiver.bind(opts["--stats-out-socket"])
    return receiver


def _create_runner_transport(opts):
    return _msg_backend_module(opts).RunnerTransport(opts["--controller-socket"])


def _create_controller_server(opts):
    return _msg_backend_module(opts).ControllerServer(opts["--controller-socket"])


def _post_json(url, body):
    from urllib.request import Request, urlopen

    # Compact JSON, as the ujson of mite 2.11 wrote it: webhook servers may compare bodies.
    data = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
    return urlopen(Request(url, data=data, method="POST"), timeout=30)


def _controller_log_start(scenario_spec, logging_url):
    """POSTs `{"testname": spec}` to `URL/start`; returns the `newid` answered (None if not 200)."""
    if not logging_url.endswith("/"):
        logging_url += "/"
    url = f"{logging_url}start"
    logger.info(f"Logging test start to {url}")
    with _post_json(url, {"testname": scenario_spec}) as resp:
        logger.debug("Logging test start complete")
        if resp.status == 200:
            return json.loads(resp.read())["newid"]
        logger.warning(f"Could not complete test start logging; status was {resp.status}")
    return None


def _controller_log_end(logging_id, logging_url):
    """POSTs `{"id": logging_id}` to `URL/end` (nothing when the start gave no id)."""
    if logging_id is None:
        return
    if not logging_url.endswith("/"):
        logging_url += "/"
    url = f"{logging_url}end"
    logger.info(f"Logging test end to {url}")
    with _post_json(url, {"id": logging_id}) as resp:
        if resp.status != 204:
            logger.warning(f"Could not complete test end logging; status was {resp.status}")
    logger.debug("Logging test end complete")


def controller(opts):
    """`mite controller`: serves the scenario to runners until the test ends (native)."""
    from .cli.control import controller as run

    return run(opts)


def runner(opts):
    """`mite runner`: runs the work the controller hands out until told to stop (native)."""
    from .cli.control import runner as run

    return run(opts)


def recorder(opts):
    """`mite recorder`: `data_created`/`purge_data` messages into `--recorder-dir`."""
    from .cli.serve import log_totals, run_until_stopped

    receiver = _recorder_receiver(opts)
    recorder = Recorder(opts.get("--recorder-dir") or "recorder_data")
    receiver.add_listener(recorder.process_message)
    run_until_stopped(receiver.run)
    if isinstance(getattr(receiver, "counts", None), dict):
        log_totals("recorder", receiver.counts)
    return 0


def prometheus_exporter(opts):
    """`mite prometheus_exporter`: stats dumps in, `/metrics` at `--web-address` (native)."""
    from .cli.services import prometheus_exporter as run

    return run(opts)


def influxdb_exporter(opts):
    """`mite influxdb_exporter`: stats dumps in, InfluxDB points out."""
    from .cli.influxdb import influxdb_exporter as run

    return run(opts)


def influxdb_init(opts):
    """`mite influxdb init`: writes every stat's zero point to the InfluxDB destinations."""
    from .cli.influxdb import influxdb_init as run

    return run(opts)


def _start_web_in_thread(opts):
    """Serves `mite.web.app` (`/metrics` from `mite.web.prometheus_metrics`) at `--web-address`
    on a daemon thread, reading the address as 2.11 did (`[v6]:port`, `host:port`, `host`)."""
    from .web import app

    address = opts["--web-address"]
    kwargs = {"port": 9301}
    if address.startswith("["):
        host, sep, port = address.partition("]:")
        kwargs["host"] = host[1:] if sep else address[1:-1]
        if sep:
            kwargs["port"] = int(port)
    elif address.count(":") == 1:
        host, port = address.split(":")
        kwargs.update(host=host, port=int(port))
    else:
        kwargs["host"] = address
    thread = threading.Thread(target=app.run, name="mite.web", kwargs=kwargs, daemon=True)
    thread.start()
    return thread


def __getattr__(name):
    # 2.11 imported these from mite.web at the top; loaded here only when asked for, so the
    # `mite` command does not pay for the web code on every start.
    if name in ("app", "prometheus_metrics", "influx_metrics"):
        from . import web

        return getattr(web, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def setup_logging(opts):
    # The command line accepts any case of the level name (validated natively); logging does not.
    logging.basicConfig(level=(opts["--log-level"] or "INFO").upper(), format=LOG_FORMAT)


def configure_python_path(opts):
    if not opts["--exclude-working-directory"]:
        sys.path.insert(0, os.getcwd())


def har_converter(opts):
    har_convert_to_mite(opts["HAR_FILE_PATH"], opts["CONVERTED_FILE_PATH"], opts["--sleep-time"])


def cat(opts):
    """`mite cat`: a msgpack file as JSON lines on stdout (native); returns the exit status."""
    from .cli.commands import run

    return run("cat", opts)


def _local_test(opts):
    from .cli.test import run

    return run(opts)


def scenario_cmd(opts):
    """`mite scenario test`; returns the exit status."""
    if opts.get("test"):
        return _local_test(opts)
    return None


def journey_cmd(opts):
    """`mite journey test` / `mite journey run`; returns the exit status."""
    if opts.get("test") or opts.get("run"):
        return _local_test(opts)
    return None


def main():
    from .cli.commands import main as run_command_line

    sys.exit(run_command_line(sys.argv[1:]))


if __name__ == "__main__":
    main()
