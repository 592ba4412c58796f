"""The built-in volume models: how many journeys a scenario wants running at each moment."""

import math
from bisect import bisect_right
from dataclasses import InitVar, dataclass, field

from ._errors import StopVolumeModel


@dataclass
class _VolumeModel:
    """A model that lasts `duration` seconds; called as `vm(start, end)` with seconds since start."""

    duration: int

    def _volume(self, start, end):
        raise NotImplementedError

    def __call__(self, start, end):
        if start > self.duration:
            raise StopVolumeModel
        return self._volume(start, end)

    def __add__(self, other):
        if not isinstance(other, _VolumeModel):
            raise ValueError(f"Cannot add a {type(other)} to a volume model")
        # The compound works out its own duration from its parts.
        return Compound(duration=0, _left=self, _right=other)


@dataclass
class Nothing(_VolumeModel):
    def _volume(self, start, end):
        return 0


@dataclass
class Constant(_VolumeModel):
    tps: int

    def _volume(self, start, end):
        return self.tps


@dataclass
class Ramp(_VolumeModel):
    """A linear change; an end left as None is taken from the neighbouring model in a compound."""

    to: int | None = None
    frm: int | None = None

    def _volume(self, start, end):
        raise ValueError("Ramp was called outside of a compound volume model")


@dataclass
class _RealRamp(_VolumeModel):
    _frm: int
    _to: int

    def _volume(self, start, end):
        if self.duration == 0:
            # mite 2.11 divides by zero here; a ramp of no length has already arrived.
            return int(self._to)
        percent = start / self.duration
        return int(self._frm + (self._to - self._frm) * percent)


@dataclass
class Compound(_VolumeModel):
    """Models played one after another; built by `+`, flattened so ramps see their neighbours."""

    _left: InitVar[_VolumeModel]
    _right: InitVar[_VolumeModel]
    _parts: tuple = field(init=False)

    def __post_init__(self, _left, _right):
        self._parts = _parts_of(_left) + _parts_of(_right)
        self.duration = _left.duration + _right.duration
        # (offset, model) pairs with ramps resolved; built on the first call because
        # that is when mite 2.11 reports a badly specified ramp.
        self._timeline = None
        self._offsets = None

    def _realize_ramps(self):
        parts = self._parts
        timeline = []
        offset = 0
        for i, part in enumerate(parts):
            if isinstance(part, Ramp):
                part = _RealRamp(
                    duration=part.duration,
                    _frm=_ramp_start(part, i, timeline),
                    _to=_ramp_end(part, i, parts),
                )
            timeline.append((offset, part))
            offset += part.duration
        self._timeline = timeline
        self._offsets = [start for start, _ in timeline]

    def __call__(self, start, end):
        if self._timeline is None:
            self._realize_ramps()
        return super().__call__(start, end)

    def _volume(self, start, end):
        # A boundary belongs to the later model; a negative time (never asked
        # for by the scenario manager) is given to the first.
        index = max(bisect_right(self._offsets, start) - 1, 0)
        offset, part = self._timeline[index]
        return part(start - offset, end - offset)


def _parts_of(model):
    return model._parts if isinstance(model, Compound) else (model,)


def _ramp_start(ramp, index, timeline):
    if index == 0:
        if ramp.frm is None:
            raise ValueError("You must specify 'frm' on the first Ramp in a chain of Volume Models")
        return ramp.frm
    if ramp.frm is not None:
        raise ValueError("A ramp with 'frm' specified must be the first volume model in a chain")
    _, previous = timeline[index - 1]
    return previous(previous.duration, 0)


def _ramp_end(ramp, index, parts):
    if index + 1 == len(parts):
        if ramp.to is None:
            raise ValueError("You must specify 'to' on the final Ramp in a chain of Volume Models")
        return ramp.to
    # Asked before checking `to`, so a ramp followed by another ramp fails the
    # way it does in mite 2.11 ("Ramp was called outside ...").
    following = parts[index + 1](0, 1)
    if ramp.to is not None:
        raise ValueError("A ramp with 'to' specified must be the last volume model in a chain")
    return following


def oneshot_vm(when=-1, stop_scenario=False):
    """A volume model that asks for one journey once `when` seconds have passed, then stops.

    Before that it asks for none, unless `stop_scenario` is set, in which case the
    scenario is stopped at once (mite 2.11 behaves so). Pair it with a
    `SingleRunDataPool` for exactly one run.
    """
    has_run = False

    def _vm(start, end):
        nonlocal has_run
        if start > when and not has_run:
            has_run = True
            return 1
        if stop_scenario or has_run:
            raise StopVolumeModel
        return 0

    _vm.duration = when
    _vm.tps = 1
    return _vm


# Arrival-rate (open) models: journeys started per second, whatever the system under test does.
# The scenario manager leases them to runners, which start each journey at its scheduled time.


# Above this, one runner's 2 s lease alone would hold millions of scheduled journeys.
MAX_RATE = 1_000_000


def _number(owner, name, value, what):
    if isinstance(value, bool) or not isinstance(value, int | float) or not (value >= 0) or value == float("inf"):
        raise ValueError(f"{owner}: {name}={value!r} is not a number >= 0 ({what})")
    if what == "journeys per second" and value > MAX_RATE:
        raise ValueError(f"{owner}: {name}={value!r} is above {MAX_RATE} journeys per second")
    return float(value)


def _cap(owner, value):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{owner}: max_in_flight={value!r}: expected a positive number of journeys")
    return value


class ArrivalModel:
    """An open model: `segments` of linearly changing rate (journeys per second), played one
    after another; `max_in_flight` caps the scenario's journeys running at once (None: no cap),
    journeys due over it are dropped and counted. Models add with `+`, as the closed ones do."""

    segments: tuple = ()
    max_in_flight: int | None = None

    @property
    def duration(self):
        return sum(d for d, _, _ in self.segments)

    def rate_at(self, t):
        """Journeys per second `t` seconds in."""
        offset = 0.0
        for duration, frm, to in self.segments:
            if t < offset + duration:
                return frm + (to - frm) * (t - offset) / duration
            offset += duration
        return 0.0

    def _accrued(self, t):
        offset = accrued = 0.0
        for duration, frm, to in self.segments:
            span = min(max(t - offset, 0.0), duration)
            accrued += frm * span + ((to - frm) / duration if duration else 0.0) * span * span / 2
            offset += duration
        return accrued

    def __call__(self, start, end):
        """Journeys due in `[start, end)` (what a caller of a closed model's `vm(start, end)`
        gets); the scenario manager itself leases the profile to runners instead."""
        if start > self.duration:
            raise StopVolumeModel
        # Journey k is due when the accrued count reaches k: whole journeys, so windows add up.
        return math.floor(self._accrued(end) + 1e-9) - math.floor(self._accrued(start) + 1e-9)

    def __add__(self, other):
        if not isinstance(other, ArrivalModel):
            raise ValueError(f"Cannot add a {type(other)} to an arrival-rate volume model")
        caps = [c for c in (self.max_in_flight, other.max_in_flight) if c is not None]
        return _ArrivalCompound(self.segments + other.segments, min(caps) if caps else None)

    def __repr__(self):
        return f"{type(self).__name__}(segments={self.segments!r}, max_in_flight={self.max_in_flight!r})"


class ArrivalRate(ArrivalModel):
    """`rate` journeys started per second for `duration` seconds (k6's constant-arrival-rate)."""

    def __init__(self, duration, rate, max_in_flight=None):
        owner = "ArrivalRate"
        duration = _number(owner, "duration", duration, "seconds")
        rate = _number(owner, "rate", rate, "journeys per second")
        self.segments = ((duration, rate, rate),)
        self.max_in_flight = _cap(owner, max_in_flight)


class RampArrivalRate(ArrivalModel):
    """A rate changing linearly from `frm` to `to` journeys per second over `duration` seconds
    (k6's ramping-arrival-rate stage)."""

    def __init__(self, duration, frm, to, max_in_flight=None):
        owner = "RampArrivalRate"
        duration = _number(owner, "duration", duration, "seconds")
        frm = _number(owner, "frm", frm, "journeys per second")
        to = _number(owner, "to", to, "journeys per second")
        self.segments = ((duration, frm, to),)
        self.max_in_flight = _cap(owner, max_in_flight)


class _ArrivalCompound(ArrivalModel):
    def __init__(self, segments, max_in_flight):
        self.segments = segments
        self.max_in_flight = max_in_flight
