"""Hypothesis profiles: a fast default and a longer ``ci`` one (HYPOTHESIS_PROFILE=ci)."""

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "default", max_examples=8, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "ci", max_examples=40, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

import pytest  # noqa: E402

FUZZ_INPUTS = pytest.StashKey[list]()


@pytest.fixture(scope="session")
def fuzz_inputs(request) -> list:
    """A one-item list the fuzz tests add each input they try to (the run's total is printed)."""
    return request.config.stash.setdefault(FUZZ_INPUTS, [0])


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    tried = config.stash.get(FUZZ_INPUTS, None)
    if tried:
        profile = os.environ.get("HYPOTHESIS_PROFILE", "default")
        terminalreporter.write_line(f"fuzz: {tried[0]:,} inputs tried (hypothesis profile {profile!r})")
