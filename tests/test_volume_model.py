"""Volume models give mite 2.11's numbers and stop exactly where it does."""

import pytest

from mite._errors import StopVolumeModel
from mite.volume_model import Compound, Constant, Nothing, Ramp, oneshot_vm


def volumes(vm, times):
    """vm(t, t + 1) for each t, with "stop" where the model raises StopVolumeModel."""
    out = []
    for t in times:
        try:
            out.append(vm(t, t + 1))
        except StopVolumeModel:
            out.append("stop")
    return out


def test_scenario_module_reexports_stop_volume_model():
    from mite import scenario

    assert scenario.StopVolumeModel is StopVolumeModel


class TestSimpleModels:
    def test_nothing_is_zero_through_its_last_second_then_stops(self):
        assert volumes(Nothing(duration=60), [0, 1, 60, 60.5, 61]) == [0, 0, 0, "stop", "stop"]

    def test_constant(self):
        assert volumes(Constant(duration=60, tps=3), [0, 30, 60, 61]) == [3, 3, 3, "stop"]

    def test_constant_takes_duration_then_tps_positionally(self):
        assert Constant(10, 4) == Constant(duration=10, tps=4)

    def test_ramp_alone_is_an_error_while_running(self):
        with pytest.raises(
            ValueError, match="^Ramp was called outside of a compound volume model$"
        ):
            Ramp(10, to=5, frm=0)(1, 2)

    def test_ramp_alone_still_stops_after_its_duration(self):
        with pytest.raises(StopVolumeModel):
            Ramp(10)(11, 12)


class TestCompound:
    def test_plays_parts_in_order_and_a_boundary_belongs_to_the_later_part(self):
        vm = Nothing(10) + Constant(duration=10, tps=1)
        assert isinstance(vm, Compound)
        assert vm.duration == 20
        assert volumes(vm, [1, 9.9, 10, 20, 21]) == [0, 0, 1, 1, "stop"]

    def test_adding_anything_else_is_a_value_error(self):
        with pytest.raises(ValueError, match="^Cannot add a <class 'int'> to a volume model$"):
            Nothing(10) + 2

    def test_nesting_on_either_side_flattens(self):
        left = (Nothing(5) + Constant(5, 1)) + (Constant(5, 2) + Nothing(5))
        right = Nothing(5) + (Constant(5, 1) + (Constant(5, 2) + Nothing(5)))
        times = [0, 5, 10, 15, 20, 21]
        assert volumes(left, times) == volumes(right, times) == [0, 1, 2, 0, 0, "stop"]

    def test_a_compound_that_has_run_can_be_extended(self):
        # mite 2.11 fails here with a TypeError.
        vm = Nothing(10) + Constant(10, 1)
        vm(1, 2)
        longer = vm + Constant(5, 7)
        assert volumes(longer, [1, 10, 20, 25, 26]) == [0, 1, 7, 7, "stop"]


class TestRamp:
    def test_takes_both_ends_from_its_neighbours(self):
        vm = Nothing(10) + Ramp(10) + Constant(tps=2, duration=10)
        assert volumes(vm, [1, 10, 15, 20, 30, 31]) == [0, 0, 1, 2, 2, "stop"]

    def test_values_are_truncated_to_integers(self):
        vm = Ramp(duration=9, frm=0) + Constant(tps=17, duration=10)
        # 17 * t / 9 rounded towards zero
        assert volumes(vm, [0, 1, 2, 4.5, 8, 9]) == [0, 1, 3, 8, 15, 17]

    def test_ramp_down_to_zero_at_the_end(self):
        vm = Constant(tps=2, duration=10) + Ramp(duration=10, to=0)
        assert volumes(vm, [1, 10, 15, 20, 21]) == [2, 2, 1, 0, "stop"]

    def test_ramp_up_from_zero_at_the_start(self):
        vm = Ramp(duration=10, frm=0) + Constant(tps=2, duration=10)
        assert volumes(vm, [1, 5, 10, 20, 21]) == [0, 1, 2, 2, "stop"]

    def test_each_ramp_starts_where_the_model_before_it_ends(self):
        vm = (
            Constant(duration=10, tps=100)
            + Ramp(10)
            + Constant(duration=10, tps=40)
            + Ramp(10, to=60)
        )
        assert volumes(vm, [5, 15, 20, 30, 35, 40, 41]) == [100, 70, 40, 40, 50, 60, "stop"]

    def test_two_ramps_in_a_row_fail_as_mite_2_11_does(self):
        vm = Ramp(10, frm=0) + Ramp(10) + Constant(10, tps=5)
        with pytest.raises(ValueError, match="^Ramp was called outside"):
            vm(1, 2)

    def test_errors_are_reported_on_the_first_call_not_when_building(self):
        vm = Constant(tps=2, duration=10) + Ramp(duration=10)
        with pytest.raises(ValueError, match="^You must specify 'to' on the final Ramp"):
            vm(1, 2)

    def test_first_ramp_needs_frm(self):
        vm = Ramp(duration=10) + Constant(tps=2, duration=10)
        with pytest.raises(ValueError, match="^You must specify 'frm' on the first Ramp"):
            vm(1, 2)

    def test_inner_ramp_with_to_is_rejected(self):
        vm = Constant(10, tps=1) + Ramp(10, to=0) + Constant(10, tps=1)
        with pytest.raises(ValueError, match="^A ramp with 'to' specified must be the last"):
            vm(1, 2)

    def test_inner_ramp_with_frm_is_rejected(self):
        vm = Constant(10, tps=1) + Ramp(10, frm=0) + Constant(10, tps=1)
        with pytest.raises(ValueError, match="^A ramp with 'frm' specified must be the first"):
            vm(1, 2)

    def test_zero_length_final_ramp_gives_its_target(self):
        # mite 2.11 divides by zero here.
        vm = Constant(5, 1) + Ramp(0, to=4)
        assert volumes(vm, [0, 5, 6]) == [1, 4, "stop"]


class TestOneshot:
    def test_default_fires_on_the_first_call_then_stops(self):
        vm = oneshot_vm()
        assert volumes(vm, [0, 1, 2]) == [1, "stop", "stop"]

    def test_waits_until_after_when(self):
        vm = oneshot_vm(when=5)
        assert volumes(vm, [0, 5, 6, 7]) == [0, 0, 1, "stop"]

    def test_stop_scenario_stops_before_firing_if_called_early(self):
        vm = oneshot_vm(when=5, stop_scenario=True)
        assert volumes(vm, [0, 6]) == ["stop", 1]

    def test_exposes_duration_and_tps(self):
        vm = oneshot_vm(when=7)
        assert (vm.duration, vm.tps) == (7, 1)
