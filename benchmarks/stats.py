"""Summaries over repetitions: median of per-repetition medians, with the spread."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Summary:
    median: float
    low: float
    high: float

    @classmethod
    def of(cls, values: Sequence[float]) -> Summary:
        return cls(statistics.median(values), min(values), max(values))

    def fmt(self, digits: int = 2, unit: str = "") -> str:
        return f"{self.median:.{digits}f}{unit} ({self.low:.{digits}f}..{self.high:.{digits}f})"


def median_ns(samples: Sequence[int]) -> float:
    """The median of one repetition's per-request times, in microseconds."""
    return statistics.median(samples) / 1000.0


def overheads(cell: Sequence[float], floor: Sequence[float]) -> list[float]:
    """Per repetition: the cell's median minus its floor's median from the same repetition."""
    return [c - f for c, f in zip(cell, floor, strict=True)]


def paired_ratios(ours: Sequence[float], peer: Sequence[float]) -> list[float]:
    """Per repetition: our overhead divided by the peer's overhead from the same repetition."""
    # A peer within timer noise of its floor has no meaningful ratio.
    return [mine / theirs if theirs > 0.05 else float("inf") for mine, theirs in zip(ours, peer, strict=True)]
