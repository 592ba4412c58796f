"""Fixtures for the tracing tests: a fresh OTLP receiver and HTTP target per test."""

import pytest
from otelsupport import OtlpReceiver, Target


@pytest.fixture
def receiver():
    server = OtlpReceiver()
    yield server
    server.close()


@pytest.fixture
def target():
    server = Target()
    yield server
    server.close()
