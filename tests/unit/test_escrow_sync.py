"""The engine's quota sync against in-memory regions that enforce quotas like Nova:
order of writes, unreachable regions, races with usage, and what is recorded."""

from __future__ import annotations

import datetime as dt

from kingbird import config
from kingbird.db import leases
from kingbird.db.session import transaction
from kingbird.quota import region_state_repository as region_state_db
from kingbird.quota import repository as quota_db
from kingbird.quota import schedule_repository as schedule_db
from kingbird.quota import status_repository as status_db
from kingbird.quota.escrow import EscrowSettings
from kingbird.quota.escrow_sync import EscrowSync
from kingbird.quota.models import ProjectSyncStatus
from kingbird.quota.syncer import FAILURE, SUCCESS, QuotaSyncer
from kingbird.quota.view import ProjectView, RegionalQuota

T0 = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.UTC)
KEYS = ("instances", "cores")


class FakeRegions:
    """Regions holding one project's compute quota; every call is logged.

    Like Nova, a limit below usage is refused without ``force``; a region that
    is down fails every call. ``before_write`` runs before each write (the
    adversary: tenants creating servers while Kingbird works).
    """

    def __init__(self, regions: dict[str, tuple[dict, dict]]):
        self.limits = {r: dict(lim) for r, (lim, _) in regions.items()}
        self.usage = {r: dict(use) for r, (_, use) in regions.items()}
        self.down: set[str] = set()
        self.failing_writes: set[str] = set()
        self.log: list[tuple] = []
        self.before_write = None

    def services_of(self, region):
        return ["compute"]

    def read_project(self, project_id, deadline=None, regions=None, services=None):
        names = list(services) if services is not None else sorted(self.limits)
        view = ProjectView(project_id)
        for region in names:
            self.log.append(("read", region))
            if region in self.down:
                view.failed[region] = "connection refused"
            else:
                view.regions[region] = RegionalQuota(dict(self.limits[region]),
                                                     dict(self.usage[region]))
        return view

    def write_many(self, project_id, changes, force=False, deadline=None):
        failures = {}
        for region, limits in sorted(changes.items()):
            if self.before_write:
                self.before_write(self, region)
            self.log.append(("write", region, dict(limits), force))
            if region in self.down or region in self.failing_writes:
                failures[(region, "compute")] = "connection refused"
                continue
            below = [k for k, v in limits.items() if v != -1 and v < self.usage[region][k]]
            if below and not force:
                failures[(region, "compute")] = "HTTP 400: below usage"
                continue
            self.limits[region].update(limits)
        return failures

    def total(self, key):
        return sum(lim[key] for lim in self.limits.values())

    def writes(self):
        return [entry for entry in self.log if entry[0] == "write"]


def nova(instances, cores, used_instances=0, used_cores=0):
    return ({"instances": instances, "cores": cores},
            {"instances": used_instances, "cores": used_cores})


def syncer(regions, clock=None, tolerance=0.0):
    times = iter(clock or [T0 + dt.timedelta(seconds=10 * i) for i in range(100)])
    return EscrowSync(regions, EscrowSettings(floor=0.1, tolerance=tolerance), half_life=20,
                      deadline=5, now=lambda: next(times))


GLOBAL = {"instances": 10, "cores": 20}


def test_first_sync_splits_the_global_limit_writing_decreases_with_force():
    regions = FakeRegions({"R1": nova(10, 20, 2, 4), "R2": nova(10, 20), "R3": nova(10, 20)})
    result = syncer(regions).sync("p", GLOBAL, {})
    assert result.failed == {}
    assert regions.total("instances") == 10 and regions.total("cores") == 20
    assert all(entry[3] for entry in regions.writes())  # every decrease forced
    assert regions.limits["R1"]["cores"] >= 4
    assert set(result.changed_states) == {"R1", "R2", "R3"}


def test_every_decrease_is_written_before_any_increase():
    regions = FakeRegions({"R1": nova(8, 18, 1, 2), "R2": nova(1, 1), "R3": nova(1, 1)})
    states = {r: region_state_db.RegionState(observed_at=T0, usage=dict(regions.usage[r]),
                                             limits=dict(regions.limits[r]), demand={"cores": 1.0})
              for r in ("R1", "R2", "R3")}
    syncer(regions, [T0 + dt.timedelta(seconds=10)]).sync("p", GLOBAL, states)
    writes = [(region, force) for _, region, _, force in regions.writes()]
    # R1 gives back (forced decrease), then R2 and R3 grow; never the other way round
    assert writes == [("R1", True), ("R2", False), ("R3", False)]
    assert regions.total("cores") == 20 and regions.total("instances") == 10


def test_steady_state_writes_nothing_and_remembers_nothing_new():
    regions = FakeRegions({"R1": nova(10, 20, 2, 4), "R2": nova(10, 20)})
    sync = syncer(regions)
    first = sync.sync("p", GLOBAL, {})
    regions.log.clear()
    second = sync.sync("p", GLOBAL, first.states)
    assert regions.writes() == []
    assert second.changed_states == {}
    assert second.writes == {}


def test_an_unreachable_region_keeps_its_share_and_the_others_are_rebalanced():
    regions = FakeRegions({"R1": nova(10, 20), "R2": nova(10, 20), "R3": nova(10, 20)})
    sync = syncer(regions)
    first = sync.sync("p", {"instances": 9, "cores": 30}, {})
    held = regions.limits["R3"]["cores"]
    regions.down.add("R3")
    second = sync.sync("p", {"instances": 9, "cores": 12}, first.states)
    assert "R3" in second.failed and "reserved" in second.failed["R3"]
    assert regions.limits["R3"]["cores"] == held  # untouched
    assert regions.limits["R1"]["cores"] + regions.limits["R2"]["cores"] == max(12 - held, 0)
    assert "R3" not in second.changed_states


def test_a_region_never_seen_and_unreachable_leaves_every_region_as_it_is():
    regions = FakeRegions({"R1": nova(10, 20), "R2": nova(10, 20)})
    regions.down.add("R2")
    result = syncer(regions).sync("p", GLOBAL, {})
    assert regions.writes() == []
    assert "never seen" in result.failed["R2"]


def test_no_increase_is_written_when_a_decrease_failed():
    regions = FakeRegions({"R1": nova(9, 19, 1, 2), "R2": nova(1, 1), "R3": nova(0, 0)})
    regions.failing_writes.add("R1")
    result = syncer(regions).sync("p", GLOBAL, {})
    assert "R1" in result.failed
    assert [e[1] for e in regions.writes()] == ["R1"]  # only the decrease was tried
    assert result.states["R1"]["limits"] == {"instances": 9, "cores": 19}  # kept the higher


def test_increases_shrink_when_usage_grew_before_a_decrease_landed():
    regions = FakeRegions({"R1": nova(10, 20, 0, 2), "R2": nova(0, 0), "R3": nova(0, 0)})

    def burst(fake, region):
        if region == "R1" and fake.usage["R1"]["cores"] == 2:
            fake.usage["R1"] = {"instances": 5, "cores": 16}  # up to its old limits

    regions.before_write = burst
    syncer(regions).sync("p", GLOBAL, {})
    used = {k: sum(u[k] for u in regions.usage.values()) for k in KEYS}
    for key in KEYS:
        capacity = sum(max(regions.limits[r][key], regions.usage[r][key]) for r in regions.limits)
        assert capacity <= GLOBAL[key], (key, regions.limits, regions.usage)
        assert used[key] <= GLOBAL[key]
    reads = [e for e in regions.log if e[0] == "read"]
    assert len(reads) == 4  # three regions, then R1 again after its decrease


def test_no_increase_is_written_once_the_lease_is_lost():
    regions = FakeRegions({"R1": nova(9, 19, 1, 2), "R2": nova(1, 1), "R3": nova(0, 0)})
    result = syncer(regions).sync("p", GLOBAL, {}, may_increase=lambda: False)
    assert [e[1] for e in regions.writes()] == ["R1"]  # the decrease only
    assert set(result.failed) == {"R2", "R3"}
    assert regions.total("cores") <= 20


def test_over_the_limit_regions_go_below_usage_with_force():
    regions = FakeRegions({"R1": nova(10, 20, 6, 12), "R2": nova(10, 20, 6, 12)})
    syncer(regions).sync("p", GLOBAL, {})
    assert regions.total("instances") == 10
    assert all(regions.limits[r]["instances"] <= 6 for r in regions.limits)


def test_demand_steers_the_headroom_to_the_busy_region():
    regions = FakeRegions({"R1": nova(50, 100), "R2": nova(50, 100)})
    clock = [T0 + dt.timedelta(seconds=10 * i) for i in range(10)]
    sync = syncer(regions, clock)
    limits = {"instances": 100, "cores": 200}
    states = sync.sync("p", limits, {}).states
    for _ in range(3):
        regions.usage["R1"]["instances"] += 8
        regions.usage["R1"]["cores"] += 16
        states = sync.sync("p", limits, states).states
    r1_room = regions.limits["R1"]["instances"] - regions.usage["R1"]["instances"]
    r2_room = regions.limits["R2"]["instances"] - regions.usage["R2"]["instances"]
    assert r1_room > 2 * r2_room
    assert regions.total("instances") == 100


# -- the syncer, with its database and both policies --------------------------------------

def claim_sync(session, project_id, owner) -> bool:
    """Take the lease of a project's sync, as an engine's claim does."""
    schedule_db.schedule_projects(session, [project_id])
    return leases.claim(session, ProjectSyncStatus.__table__, project_id, owner, 30)


def quota_syncer(factory, regions, policy):
    conf = config.load_config([])
    conf.set_override("allocation", policy, group="quota")
    with transaction(factory) as session:
        quota_db.set_project_limits(session, "p", {"instances": 10, "cores": 20})
    return QuotaSyncer(conf, lambda: transaction(factory), regions, fanout=None)


def test_escrow_syncer_records_a_partial_sync_and_remembers_the_regions(factory):
    regions = FakeRegions({"R1": nova(10, 20), "R2": nova(10, 20)})
    syncer_ = quota_syncer(factory, regions, "escrow")
    assert syncer_.sync("p").outcome == SUCCESS
    regions.down.add("R2")
    outcome = syncer_.sync("p")
    assert outcome.outcome == FAILURE and list(outcome.failed) == ["R2"]
    with transaction(factory) as session:
        status = status_db.get_sync_status(session, "p")
        states = region_state_db.get_region_states(session, "p")
    assert status["failed_regions"] == ["R2"] and "reserved" in status["reason"]
    assert states["R2"]["limits"] == regions.limits["R2"]


def test_classic_syncer_keeps_the_formula_and_writes_nothing_on_a_partial_view(factory):
    regions = FakeRegions({"R1": nova(10, 20, 1, 2), "R2": nova(10, 20)})
    syncer_ = quota_syncer(factory, regions, "classic")
    assert syncer_.sync("p").outcome == SUCCESS
    assert regions.limits == {"R1": {"instances": 10, "cores": 20},
                              "R2": {"instances": 9, "cores": 18}}
    regions.down.add("R2")
    regions.log.clear()
    assert syncer_.sync("p").outcome == FAILURE
    assert regions.writes() == []


def test_escrow_syncer_writes_increases_only_while_it_holds_the_lease(factory):
    regions = FakeRegions({"R1": nova(9, 19, 1, 2), "R2": nova(1, 1)})
    syncer_ = quota_syncer(factory, regions, "escrow")
    with transaction(factory) as session:
        assert claim_sync(session, "p", "engine-1")
    assert syncer_.sync("p", owner="engine-1").outcome == SUCCESS
    assert regions.total("instances") == 10 and regions.limits["R2"]["instances"] > 1

    with transaction(factory) as session:
        quota_db.set_project_limits(session, "p", {"instances": 30, "cores": 60})  # all grow
        status_db.record_sync_result(session, "p", SUCCESS, [], None)  # engine-1 let go...
        assert claim_sync(session, "p", "engine-2")  # ...engine-2 took it
    outcome = syncer_.sync("p", owner="engine-1")  # a late sync by engine-1
    assert "another engine" in outcome.reason
    assert regions.total("instances") == 10  # nothing grew


def test_a_sync_that_finds_usage_near_the_limit_and_moving_reports_contention():
    regions = FakeRegions({"R1": nova(5, 10, 4, 8), "R2": nova(5, 10, 4, 8)})
    sync = syncer(regions)
    first = sync.sync("p", GLOBAL, {})
    assert first.contended == ["cores", "instances"]  # never seen: counts as moved
    still = sync.sync("p", GLOBAL, first.states)
    assert still.contended == []  # full-ish but idle: nothing to rebalance sooner
    regions.usage["R1"].update(instances=5, cores=10)
    assert sync.sync("p", GLOBAL, still.states).contended == ["cores", "instances"]
    regions.usage["R1"].update(instances=1, cores=2)
    regions.usage["R2"].update(instances=1, cores=2)
    assert sync.sync("p", GLOBAL, still.states).contended == []


def test_the_escrow_syncer_records_contention_for_the_scheduler(factory):
    regions = FakeRegions({"R1": nova(10, 20, 9, 18), "R2": nova(10, 20)})
    syncer_ = quota_syncer(factory, regions, "escrow")
    assert syncer_.sync("p").contended == ["cores", "instances"]
    with transaction(factory) as session:
        assert status_db.get_sync_status(session, "p")["contended"] is True
    assert syncer_.sync("p").contended == []
    with transaction(factory) as session:
        assert status_db.get_sync_status(session, "p")["contended"] is False
