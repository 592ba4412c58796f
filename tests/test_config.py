"""ConfigManager versions changes per runner; the default loader reads MITE_CONF_* variables."""

import pytest

from mite.config import ConfigManager, default_config_loader


def manager_with(**items):
    cm = ConfigManager()
    for key, value in items.items():
        cm.set(key, value)
    return cm


def test_each_set_gets_the_next_version():
    cm = manager_with(key1="value1", key2="value2", key3="value3")
    assert cm._config == {"key1": ("value1", 1), "key2": ("value2", 2), "key3": ("value3", 3)}


def test_get_returns_value_or_default():
    cm = manager_with(foo="bar", empty=None)
    assert cm.get("foo") == "bar"
    assert cm.get("missing") is None
    assert cm.get("missing", "fallback") == "fallback"
    # A key set to None is present: its value wins over the default.
    assert cm.get("empty", "fallback") is None


def test_a_new_runner_gets_everything_in_first_set_order():
    cm = manager_with(a=1, b=2, c=3)
    cm.set("a", 10)
    assert cm.get_changes_for_runner("r1") == [("a", 10), ("b", 2), ("c", 3)]


def test_a_runner_only_gets_what_changed_since_it_last_asked():
    cm = manager_with(a=1, b=2)
    assert cm.get_changes_for_runner("r1") == [("a", 1), ("b", 2)]
    assert cm.get_changes_for_runner("r1") == []
    cm.set("b", 20)
    cm.set("c", 3)
    assert cm.get_changes_for_runner("r1") == [("b", 20), ("c", 3)]
    assert cm.get_changes_for_runner("r1") == []


def test_runners_are_tracked_separately():
    cm = manager_with(a=1)
    cm.get_changes_for_runner(1)
    cm.set("b", 2)
    assert cm.get_changes_for_runner(2) == [("a", 1), ("b", 2)]
    assert cm.get_changes_for_runner(1) == [("b", 2)]


def test_setting_the_same_value_again_is_still_news():
    cm = manager_with(a=1)
    cm.get_changes_for_runner("r")
    cm.set("a", 1)
    assert cm.get_changes_for_runner("r") == [("a", 1)]


def test_repr_matches_mite_2_11_and_str_is_the_repr():
    cm = ConfigManager()
    assert repr(cm) == "ConfigManager(version=0, )"
    cm.set("a", "x")
    cm.set("b", 2)
    assert repr(cm) == "ConfigManager(version=2, a=('x', 1) ,b=(2, 2))"
    assert str(cm) == repr(cm)


@pytest.fixture
def clean_environ(monkeypatch):
    import os

    for name in list(os.environ):
        if name.startswith(("MITE_CONF_", "MITE_EVAL_CONF_")):
            monkeypatch.delenv(name)
    return monkeypatch


def test_default_loader_reads_prefixed_variables_as_strings(clean_environ):
    clean_environ.setenv("MITE_CONF_host", "http://localhost:8080")
    clean_environ.setenv("MITE_CONF_COUNT", "3")
    clean_environ.setenv("NOT_MITE_CONF_x", "ignored")
    assert default_config_loader() == {"host": "http://localhost:8080", "COUNT": "3"}


def test_default_loader_evaluates_eval_variables(clean_environ):
    clean_environ.setenv("MITE_EVAL_CONF_users", "[('u1', 1), ('u2', 2)]")
    clean_environ.setenv("MITE_EVAL_CONF_rate", "2 * 1.5")
    assert default_config_loader() == {"users": [("u1", 1), ("u2", 2)], "rate": 3.0}


def test_default_loader_with_nothing_set(clean_environ):
    assert default_config_loader() == {}
