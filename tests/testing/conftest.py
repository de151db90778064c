"""Fixtures of the testing-kit suite: the shared Redis server, and settings that fit the time budget."""

from __future__ import annotations

import re

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

_STEP = re.compile(r"^(?:[\w, ]+ = )?state\.(\w+)\(")


def rule_steps(notes: list[str]) -> list[str]:
    """The rules a reported counterexample runs (invariant checks and teardown left out)."""
    steps = []
    for note in notes:
        match = _STEP.match(note)
        if match and not match.group(1).endswith("lists_match_model") and match.group(1) != "teardown":
            steps.append(match.group(1))
    return steps
