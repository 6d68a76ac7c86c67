"""Repository of the escrow allocation's per-region state, on migrated SQLite."""

from __future__ import annotations

import datetime as dt

from kingbird.db.session import transaction
from kingbird.quota import region_state_repository as region_state_db

T0 = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.UTC)


def state(usage: int, limit: int, rate: float, at: dt.datetime = T0) -> region_state_db.RegionState:
    return region_state_db.RegionState(observed_at=at, usage={"cores": usage},
                                       limits={"cores": limit}, demand={"cores": rate})


def test_region_states_are_saved_per_region_and_read_back(factory):
    with transaction(factory) as session:
        assert region_state_db.get_region_states(session, "p1") == {}
        region_state_db.save_region_states(session, "p1", {"RegionOne": state(2, 7, 0.5),
                                                           "RegionTwo": state(0, 3, 0.0)})
        region_state_db.save_region_states(session, "p2", {"RegionOne": state(9, 9, 1.0)})
    with transaction(factory) as session:
        states = region_state_db.get_region_states(session, "p1")
    assert set(states) == {"RegionOne", "RegionTwo"}
    assert states["RegionOne"] == state(2, 7, 0.5)


def test_saving_some_regions_overwrites_them_and_keeps_the_others(factory):
    later = T0 + dt.timedelta(seconds=30)
    with transaction(factory) as session:
        region_state_db.save_region_states(session, "p1", {"RegionOne": state(2, 7, 0.5),
                                                           "RegionTwo": state(0, 3, 0.0)})
        region_state_db.save_region_states(session, "p1", {"RegionOne": state(5, 6, 0.25, later)})
        states = region_state_db.get_region_states(session, "p1")
    assert states["RegionOne"] == state(5, 6, 0.25, later)
    assert states["RegionTwo"] == state(0, 3, 0.0)

