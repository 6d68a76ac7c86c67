"""Coordination between engines: in-process, and through tooz (its file driver
here; PostgreSQL and Redis in tests/functional/test_coordination_backends.py)."""

from __future__ import annotations

import pytest

from kingbird.engine.coordination import (
    SCHEDULER,
    LocalCoordinator,
    ToozCoordinator,
    build_coordinator,
)


def test_no_backend_means_in_process_coordination():
    coordinator = build_coordinator("", "engine-a")
    assert isinstance(coordinator, LocalCoordinator)
    assert coordinator.is_leader(SCHEDULER)


def test_in_process_locks_exclude_each_other_and_are_released():
    coordinator = LocalCoordinator()
    with coordinator.exclusive("quota-p1") as first:
        assert first
        with coordinator.exclusive("quota-p1") as second:
            assert not second
        with coordinator.exclusive("quota-p2") as other:
            assert other
    with coordinator.exclusive("quota-p1") as again:
        assert again


@pytest.fixture
def pair(tmp_path):
    url = f"file://{tmp_path}"
    engines = [ToozCoordinator(url, name) for name in ("engine-a", "engine-b")]
    for engine in engines:
        engine.start()
    yield engines
    for engine in engines:
        engine.stop()


def test_one_engine_at_a_time_holds_the_scheduler_role(pair):
    a, b = pair
    assert a.is_leader(SCHEDULER)
    assert a.is_leader(SCHEDULER), "the holder keeps it"
    assert not b.is_leader(SCHEDULER)
    a.stop()
    assert b.is_leader(SCHEDULER), "the role is free once its holder stopped"
    a.start()
    assert not a.is_leader(SCHEDULER)


def test_a_project_lock_is_held_by_one_engine(pair):
    a, b = pair
    with a.exclusive("quota-p1") as mine:
        assert mine
        with b.exclusive("quota-p1") as theirs:
            assert not theirs
    with b.exclusive("quota-p1") as now_theirs:
        assert now_theirs


def test_an_unreachable_backend_leaves_the_work_to_the_database_leases():
    coordinator = ToozCoordinator("file:///dev/null/cannot-be-a-directory", "engine-a")
    coordinator.start()  # logs, does not raise
    assert not coordinator.is_leader(SCHEDULER), "nobody schedules without coordination"
    with coordinator.exclusive("quota-p1") as go:
        assert go, "syncing goes on, guarded by the project's lease"
