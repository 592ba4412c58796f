"""Building what every command needs from docopt's option map: config, scenarios, runner."""

import inspect

from .._errors import UnavailableError
from ..config import ConfigManager
from ..runner import Runner
from ..scenario import ScenarioManager
from ..utils import SpecError, spec_import


class UsageError(Exception):
    """Bad input found before the test starts: exit status 2, one line."""


def _create_config_manager(opts):
    config_manager = ConfigManager()
    loader = spec_import(opts["--config"])
    try:
        config = loader()
    except Exception as e:
        raise UsageError(f"config loader {opts['--config']} raised {type(e).__name__}: {e}") from e
    if not hasattr(config, "items"):
        raise UsageError(f"config loader {opts['--config']} returned {type(config).__name__}, not a dict")
    for k, v in config.items():
        config_manager.set(k, v)
    for value in opts.get("--add-to-config") or []:
        if ":" not in value:
            raise UsageError(f"--add-to-config expects key:value, got {value!r}")
        k, v = value.split(":", 1)
        config_manager.set(k, v)
    return config_manager


def _create_scenario_manager(opts, config_manager=None):
    return ScenarioManager(
        start_delay=float(opts["--delay-start-seconds"]),
        period=float(opts["--max-loop-delay"]),
        spawn_rate=int(opts["--spawn-rate"]),
        config_manager=config_manager,
    )


def _create_runner(opts, transport, msg_sender):
    max_work = opts.get("--runner-max-journeys")
    return Runner(
        transport,
        msg_sender,
        loop_wait_min=float(opts["--min-loop-delay"]),
        loop_wait_max=float(opts["--max-loop-delay"]),
        max_work=int(max_work) if max_work else None,
        debug=bool(opts["--debugging"]),
    )


def _get_scenario_with_kwargs(scenario_spec, config_manager, sender):
    scenarios_fn = spec_import(scenario_spec)
    if not callable(scenarios_fn):
        raise UsageError(f"scenario {scenario_spec} is not a function")
    kwargs = {}
    for name in inspect.signature(scenarios_fn).parameters:
        if name == "config":
            kwargs["config"] = config_manager
        elif name == "sender":
            kwargs["sender"] = sender
        else:
            raise UsageError(
                f"scenario {scenario_spec} takes a parameter {name!r}; only 'config' and 'sender' can be given"
            )
    try:
        return scenarios_fn(**kwargs)
    except UnavailableError:
        raise  # already one line naming what is missing (exit 1, not a usage error)
    except Exception as e:
        raise UsageError(f"scenario {scenario_spec} raised {type(e).__name__}: {e}") from e


def check_scenarios(source, scenarios):
    """Each item must be [journey_spec, datapool_or_None, volume_model]; returns them as tuples."""
    try:
        iterator = iter(scenarios)
    except TypeError:
        raise UsageError(f"{source} returned {type(scenarios).__name__}, not a list of scenarios") from None
    try:
        items = list(iterator)
    except Exception as e:
        raise UsageError(f"{source} raised {type(e).__name__}: {e}") from e
    checked = []
    for n, item in enumerate(items, 1):
        try:
            journey_spec, datapool, volume_model = item
        except (TypeError, ValueError):
            raise UsageError(
                f"{source}: scenario {n} is {item!r}, not [journey_spec, datapool, volume_model]"
            ) from None
        try:
            journey = spec_import(journey_spec)
        except SpecError as e:
            raise UsageError(f"{source}: scenario {n}: {e}") from None
        if not callable(journey):
            raise UsageError(f"{source}: scenario {n}: journey {journey_spec} is not callable")
        if datapool is not None and not hasattr(datapool, "checkout"):
            raise UsageError(f"{source}: scenario {n}: datapool {datapool!r} has no checkout method")
        if not callable(volume_model):
            raise UsageError(f"{source}: scenario {n}: volume model {volume_model!r} is not callable")
        checked.append((journey_spec, datapool, volume_model))
    return checked
