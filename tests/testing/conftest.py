"""Fixtures of the testing-kit suite: the shared Redis server, and settings that fit the time budget."""

from __future__ import annotations

from hypothesis import HealthCheck, Phase, settings

from tests.support import fixtures

redis_server = fixtures.redis_server

#: The machines on correct stores and apps: a modest number of runs, each long enough
#: to reach expiry, caps and replays.
RUNS = settings(
    max_examples=25,
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)

#: Bug hunts: deterministic, so each seeded bug is found the same way on every run, and
#: without the explain phase, which only adds prose to a counterexample.
HUNT = settings(
    max_examples=200,
    stateful_step_count=15,
    deadline=None,
    database=None,
    derandomize=True,
    report_multiple_bugs=False,
    print_blob=False,
    phases=[Phase.explicit, Phase.generate, Phase.shrink],
    suppress_health_check=list(HealthCheck),
)
