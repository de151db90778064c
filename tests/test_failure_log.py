"""The rate-limited store-failure log: one line per burst, counts that add up, no ids, no flood."""

from __future__ import annotations

import logging
import re
import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from session_middleware._failure_log import StoreFailureLog
from session_middleware.exceptions import StoreError
from session_middleware.records import id_hash, new_session_id
from session_middleware.testing.clock import FakeClock

_SUMMARY = re.compile(r"^(\d+) more store failures in the last ([\d.]+)s \(last: ([\w ()]+) during ([\w ]+)\)$")


class Recorder(logging.Handler):
    """Every record the failure log emits, formatted as its handlers would see it."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def lines(self, level: int = logging.WARNING) -> list[str]:
        return [r.getMessage() for r in self.records if r.levelno == level]


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


def make_log(recorder: Recorder, clock: FakeClock, interval: float = 5.0) -> StoreFailureLog:
    logger = logging.getLogger(f"tests.failure_log.{id(recorder)}")
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    logger.handlers = [recorder]
    return StoreFailureLog(logger, interval=interval, clock=clock)


def failures_accounted(lines: list[str]) -> int:
    """How many failures the lines report: one per first-of-burst line plus every summary's count."""
    total = 0
    for line in lines:
        summary = _SUMMARY.match(line)
        total += int(summary.group(1)) if summary else 1
    return total


def test_first_failure_is_one_warning_line_with_class_operation_and_hash(recorder: Recorder) -> None:
    clock = FakeClock(100.0)
    log = make_log(recorder, clock)
    sid = new_session_id()
    log.report("load", StoreError(f"redis said no to {sid} with data {{'cart': [1]}}"), id_hash(sid))
    [line] = recorder.lines()
    assert line == f"session store failure: StoreError during load (session {id_hash(sid)})"
    assert sid not in line and "cart" not in line
    [trace] = [r for r in recorder.records if r.levelno == logging.DEBUG]
    assert trace.exc_info is not None and "\n" not in trace.getMessage()


def test_a_backend_error_behind_the_store_error_is_named_too(recorder: Recorder) -> None:
    log = make_log(recorder, FakeClock(0.0))
    try:
        try:
            raise ConnectionRefusedError("10.0.0.9:6379")
        except OSError as backend:
            raise StoreError("redis unavailable") from backend
    except StoreError as failure:
        log.report("loading a session", failure, None)
    try:
        try:
            raise KeyError("unrelated")
        except KeyError:
            raise StoreError("redis unavailable") from None
    except StoreError as hidden:
        log.flush()
        log.report("saving a session", hidden, None)
    first, second = recorder.lines()
    assert first == "session store failure: StoreError (ConnectionRefusedError) during loading a session (session none)"
    assert "10.0.0.9" not in first
    assert second == "session store failure: StoreError during saving a session (session none)"  # `from None`


def test_failures_within_the_interval_are_counted_then_summarised_once(recorder: Recorder) -> None:
    clock = FakeClock(0.0)
    log = make_log(recorder, clock)
    log.report("load", ConnectionError(), "aaaaaaaaaaaa")
    for op in ("save", "load", "create"):
        clock.advance(1.0)
        log.report(op, TimeoutError(), None)
    assert len(recorder.lines()) == 1  # only counted so far
    clock.advance(2.5)  # 5.5 s since the first failure
    log.report("delete", OSError(), None)
    assert recorder.lines() == [
        "session store failure: ConnectionError during load (session aaaaaaaaaaaa)",
        "3 more store failures in the last 5.5s (last: TimeoutError during create)",
        "session store failure: OSError during delete (session none)",
    ]


def test_a_new_burst_after_a_quiet_interval_logs_no_empty_summary(recorder: Recorder) -> None:
    clock = FakeClock(0.0)
    log = make_log(recorder, clock)
    log.report("load", StoreError("x"), None)
    clock.advance(60)
    log.report("save", StoreError("y"), None)
    assert [line.split(" (")[0] for line in recorder.lines()] == [
        "session store failure: StoreError during load",
        "session store failure: StoreError during save",
    ]


def test_flush_reports_what_was_counted_and_then_nothing(recorder: Recorder) -> None:
    clock = FakeClock(0.0)
    log = make_log(recorder, clock)
    log.flush()
    assert recorder.records == []
    log.report("load", StoreError(), None)
    clock.advance(0.25)
    log.report("save", StoreError(), None)
    clock.advance(1)
    log.flush()
    log.flush()
    assert recorder.lines()[1:] == ["1 more store failures in the last 1.2s (last: StoreError during save)"]
    log.report("load", StoreError(), None)  # after a flush, the next failure is logged at once
    assert len(recorder.lines()) == 3


def test_a_fifteen_second_outage_at_200_requests_a_second_logs_a_handful_of_lines(recorder: Recorder) -> None:
    clock = FakeClock(0.0)
    log = make_log(recorder, clock)
    requests = 15 * 200
    for n in range(requests):
        log.report("load" if n % 3 else "save", StoreError("connection refused"), id_hash(new_session_id()))
        clock.advance(1 / 200)
    log.flush()
    lines = recorder.lines()
    assert len(lines) <= 12  # a first line and a summary per 5 s, not 3000 lines
    assert failures_accounted(lines) == requests  # ...and none is lost from the counts
    assert len([r for r in recorder.records if r.levelno == logging.DEBUG]) == len(lines) - sum(
        1 for line in lines if _SUMMARY.match(line)
    )  # one traceback per line that names a failure


def test_reports_from_many_threads_are_all_counted(recorder: Recorder) -> None:
    clock = FakeClock(0.0)
    log = make_log(recorder, clock, interval=3600)
    threads_count, each = 8, 250
    start = threading.Barrier(threads_count)

    def worker() -> None:
        start.wait()
        for _ in range(each):
            log.report("load", StoreError(), None)

    threads = [threading.Thread(target=worker) for _ in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    log.flush()
    lines = recorder.lines()
    assert len(lines) == 2 and failures_accounted(lines) == threads_count * each


def test_interval_zero_logs_every_failure_and_bad_intervals_are_refused(recorder: Recorder) -> None:
    log = make_log(recorder, FakeClock(0.0), interval=0)
    for _ in range(3):
        log.report("load", StoreError(), None)
    assert len(recorder.lines()) == 3
    for bad in (-1.0, float("nan"), float("inf")):
        with pytest.raises(ValueError):
            StoreFailureLog(logging.getLogger("x"), interval=bad)


@settings(max_examples=40, deadline=None)
@given(gaps=st.lists(st.floats(min_value=0, max_value=12, allow_nan=False), min_size=1, max_size=60))
def test_every_failure_is_accounted_for_and_lines_stay_bounded(gaps: list[float]) -> None:
    recorder = Recorder()
    clock = FakeClock(0.0)
    log = make_log(recorder, clock)
    for gap in gaps:
        clock.advance(gap)
        log.report("load", StoreError(), None)
    log.flush()
    lines = recorder.lines()
    assert failures_accounted(lines) == len(gaps)
    # At most a first line and a summary per interval elapsed, plus the first burst's pair.
    assert len(lines) <= 2 * (int(clock.now // 5) + 1)
