"""The project's performance targets, checked against one run's results."""

from __future__ import annotations

from dataclasses import dataclass

from .stats import Summary


@dataclass(frozen=True)
class Outcome:
    target: str
    measured: str
    limit: str
    met: bool | None  # None: not measured in this run


@dataclass(frozen=True)
class RatioTarget:
    ours: str
    peer: str
    scenario: str
    limit: float
    commands: float | None = None  # Redis commands per request required of ours

    def describe(self) -> str:
        text = f"{self.ours} ({self.scenario}) overhead <= {self.limit}x {self.peer}"
        if self.commands is not None:
            text += f", {self.commands:g} Redis command(s)"
        return text


RATIO_TARGETS = [
    RatioTarget("asgi-ours-memory", "asgi-starlette", "a", 1.0),
    RatioTarget("asgi-ours-memory", "asgi-starlette", "b", 0.5),
    RatioTarget("asgi-ours-memory", "asgi-starlette", "c", 0.5),
    RatioTarget("asgi-ours-memory", "asgi-starlette", "d", 0.5),
    RatioTarget("flask-ours-memory", "flask-cookie", "b", 0.25),
    RatioTarget("asgi-ours-redis", "asgi-starsessions-redis", "b", 0.5, commands=1),
    RatioTarget("asgi-ours-redis", "asgi-starsessions-redis", "d", 0.5, commands=1),
    RatioTarget("asgi-ours-redis", "asgi-starsessions-redis", "c", 1.0, commands=2),
    RatioTarget("flask-ours-redis", "flask-session-redis", "b", 1.0),
]


def check_ratio(target: RatioTarget, ratio: Summary | None, commands: float | None) -> Outcome:
    name = target.describe()
    limit = f"<= {target.limit}x" + ("" if target.commands is None else f", {target.commands:g} cmd")
    if ratio is None:
        return Outcome(name, "not measured", limit, None)
    met = ratio.median <= target.limit
    measured = f"{ratio.median:.2f}x ({ratio.low:.2f}..{ratio.high:.2f})"
    if target.commands is not None:
        met = met and commands is not None and abs(commands - target.commands) < 1e-9
        measured += f", {commands:g} cmd" if commands is not None else ", commands not counted"
    return Outcome(name, measured, limit, met)


def check_value(name: str, value: float | None, limit: float, *, fmt: str, strict: bool = False) -> Outcome:
    limit_text = ("< " if strict else "<= ") + fmt.format(limit)
    if value is None:
        return Outcome(name, "not measured", limit_text, None)
    met = value < limit if strict else value <= limit
    return Outcome(name, fmt.format(value), limit_text, met)
