"""The bounded fan-out: lanes per region, global bound, deadlines."""

from __future__ import annotations

import threading
import time

import pytest

from kingbird.core.exceptions import RegionError
from kingbird.regions.calls import RegionTimeout
from kingbird.regions.fanout import NO_ANSWER, FanOut


@pytest.fixture
def fanout():
    pool = FanOut(concurrency=4, per_lane=2)
    yield pool
    pool.shutdown()


def test_a_slow_region_holds_only_its_own_lane(fanout):
    finished: dict[str, float] = {}
    start = time.monotonic()

    def task(name, pause):
        def run():
            time.sleep(pause)
            finished[name] = time.monotonic() - start
            return name
        return run

    tasks = {("slow", i): task(f"slow{i}", 0.3) for i in range(4)}
    tasks.update({("fast", i): task(f"fast{i}", 0.01) for i in range(8)})
    results, failures = fanout.run(tasks, lane=lambda key: key[0])
    assert failures == {} and len(results) == 12
    # 8 fast calls on 2 slots take ~40 ms; they never wait behind the slow ones
    assert max(finished[f"fast{i}"] for i in range(8)) < 0.25
    assert max(finished[f"slow{i}"] for i in range(4)) >= 0.55  # 2 at a time


def test_calls_in_flight_never_exceed_the_global_bound(fanout):
    running, peak, lock = [0], [0], threading.Lock()

    def task():
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.02)
        with lock:
            running[0] -= 1

    fanout.run({(r, i): task for r in "abcd" for i in range(4)}, lane=lambda key: key[0])
    assert peak[0] == 4


def test_calls_still_queued_at_the_deadline_are_dropped_not_sent(fanout):
    started = []

    def task(i):
        def run():
            started.append(i)
            time.sleep(0.2)
        return run

    results, failures = fanout.run({i: task(i) for i in range(6)},
                                   deadline=time.monotonic() + 0.1, lane=lambda key: "one")
    assert results == {}
    assert failures == dict.fromkeys(range(6), NO_ANSWER)
    time.sleep(0.3)
    assert len(started) == 2  # the lane's two slots; the rest never ran


def test_region_errors_are_failures_and_other_errors_propagate(fanout):
    def refused():
        raise RegionError("R1", "connection refused")

    results, failures = fanout.run({"a": refused, "b": lambda: 1})
    assert results == {"b": 1} and failures == {"a": "R1: connection refused"}
    with pytest.raises(ZeroDivisionError):
        fanout.run({"c": lambda: 1 / 0})


def test_a_region_that_keeps_timing_out_is_not_called_until_a_probe_answers():
    fanout = FanOut(concurrency=2, per_lane=1, trip_after=2, cooldown=0.2)
    calls = []

    def slow():
        calls.append("slow")
        raise RegionTimeout("R1", "read compute quota: timed out", transient=True)

    try:
        for _ in range(2):
            fanout.run({"a": slow}, lane=lambda key: "R1")
        _, failures = fanout.run({i: slow for i in range(5)}, lane=lambda key: "R1")
        assert len(calls) == 2  # tripped: none of the five went out
        assert all("not called" in reason for reason in failures.values())
        # other regions are not affected
        assert fanout.run({"b": lambda: 7}, lane=lambda key: "R2") == ({"b": 7}, {})
        time.sleep(0.25)
        results, _ = fanout.run({"probe": lambda: "back"}, lane=lambda key: "R1")
        assert results == {"probe": "back"}
        assert fanout.run({"c": lambda: 1}, lane=lambda key: "R1") == ({"c": 1}, {})
    finally:
        fanout.shutdown()


def test_refused_connections_never_trip_the_breaker():
    fanout = FanOut(concurrency=2, per_lane=1, trip_after=1, cooldown=60)

    def refused():
        raise RegionError("R1", "connection refused", transient=True)

    try:
        for _ in range(3):
            _, failures = fanout.run({"a": refused}, lane=lambda key: "R1")
            assert failures == {"a": "R1: connection refused"}
    finally:
        fanout.shutdown()


def test_a_call_that_times_out_raises_region_timeout_and_others_region_error():
    from keystoneauth1 import exceptions as ks_exc

    from kingbird.regions import calls

    def timeout():
        raise ks_exc.ConnectTimeout("Request to http://r1 timed out")

    def refused():
        raise ks_exc.ConnectFailure("refused")

    with pytest.raises(RegionTimeout):
        calls.call("R1", "read compute quota", timeout, calls.ONCE)
    with pytest.raises(RegionError) as caught:
        calls.call("R1", "read compute quota", refused, calls.ONCE)
    assert not isinstance(caught.value, RegionTimeout) and caught.value.transient
