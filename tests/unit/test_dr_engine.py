"""The DR worker and workflows on SQLite (migrated schema), with the region work
faked: scheduling, exclusive claims, resuming a workflow, failures and pruning."""

from __future__ import annotations

import datetime as dt
import threading

import pytest

from kingbird.core.exceptions import LeaseLost, WorkFailed
from kingbird.dr import plan_repository as plans_db
from kingbird.dr import retention
from kingbird.dr import steps as dr_steps
from kingbird.dr import workflow_repository as workflows_db
from kingbird.dr.worker import DrWorker
from kingbird.dr.workflow import Workflow
from kingbird.engine.leased_work import Lease

T0 = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.UTC)


def new_plan(tx, retention: int = 2, **extra) -> dict:
    with tx() as session:
        return plans_db.create_plan(session, {
            "project_id": "p", "user_id": "u", "name": "vnf", "description": None,
            "method": "snapshot-backup", "home_region": "R1", "recovery_region": "R2",
            "servers": ["s1", "s2"], "interval": 600, "retention": retention,
            "trust_id": "t", **extra}, now=T0)


class FakeCapture:
    def __init__(self, fail: str | None = None):
        self.fail = fail
        self.abandoned = []
        self.deleted = []

    def take(self, wf, plan, point, previous):
        if self.fail:
            wf.steps = [dr_steps.step("snapshot", "x")]
            wf.steps[0]["status"] = dr_steps.RUNNING
            raise WorkFailed(self.fail)
        chain = retention.next_chain(previous, point["region"], plan["retention"]) \
            or point["id"]
        return {"shape": {"servers": []}, "volumes": [{"volume_id": "v", "incremental":
                                                       bool(previous)}],
                "chain_id": chain, "taken_at": T0, "size_gb": 1}

    def abandon(self, wf, plan, point):
        self.abandoned.append(point["id"])
        return None

    def delete(self, wf, point):
        self.deleted.append(point["id"])


class FakeRecovery:
    def __init__(self, fail: str | None = None):
        self.fail = fail
        self.rolled_back = []

    def run(self, wf, plan, op):
        wf.run("import_backups", lambda: "imported")
        if self.fail:
            wf.run("restore_volumes", lambda: (_ for _ in ()).throw(WorkFailed(self.fail)))

    def rollback(self, wf, plan, op):
        self.rolled_back.append(op["id"])
        return "removed from R2: 0 servers"


def worker(tx, capture=None, recovery=None, owner="e1") -> DrWorker:
    return DrWorker(capture or FakeCapture(), recovery or FakeRecovery(), tx, owner,
                    workers=2, lease_seconds=30)


def workflow(tx, kind, row, owner) -> Workflow:
    return Workflow(tx, kind, row, owner, Lease(f"{kind} {row['id']}"))


def claim(tx, kind, workflow_id, owner="e1", now=None):
    with tx() as session:
        return workflows_db.claim(session, kind, workflow_id, owner, 30, now=now)


def test_a_new_plan_is_due_once_and_then_every_interval(tx):
    plan = new_plan(tx)
    engine = worker(tx)
    (first,) = engine.schedule(now=T0)
    assert engine.schedule(now=T0 + dt.timedelta(seconds=1)) == []
    with tx() as session:
        assert workflows_db.get_restore_point(session, first)["purpose"] == "scheduled"
        plans_db.request_restore_point(session, plan["id"])
    # Requested, but the first is still being taken: skipped, not queued twice.
    assert engine.schedule(now=T0 + dt.timedelta(seconds=2)) == []
    with tx() as session:
        workflows_db.save(session, workflows_db.RESTORE_POINT, first, None, {"status": "AVAILABLE"})
    assert len(engine.schedule(now=T0 + dt.timedelta(seconds=601))) == 1


def test_of_two_engines_only_one_claims_and_a_dead_ones_work_is_taken_over(tx):
    plan = new_plan(tx)
    with tx() as session:
        point = workflows_db.create_restore_point(session, plan, "requested", "R2", now=T0)
    assert claim(tx, workflows_db.RESTORE_POINT, point["id"], "e1", now=T0) is not None
    assert claim(tx, workflows_db.RESTORE_POINT, point["id"], "e2", now=T0) is None
    later = T0 + dt.timedelta(seconds=31)
    taken = claim(tx, workflows_db.RESTORE_POINT, point["id"], "e2", now=later)
    assert taken is not None and taken["attempts"] == 2
    with tx() as session:
        assert not workflows_db.save(session, workflows_db.RESTORE_POINT, point["id"], "e1",
                                     {"state": {"x": 1}})


def test_a_resumed_workflow_skips_done_steps_and_finds_a_lost_create(tx):
    plan = new_plan(tx)
    with tx() as session:
        op = workflows_db.create_operation(session, {
            "plan_id": plan["id"], "project_id": "p", "kind": "failover",
            "restore_point_id": None, "from_region": "R1", "to_region": "R2",
            "requested_by": "admin", "request_id": None,
            "steps": [dr_steps.step("a", "first"), dr_steps.step("b", "second")]})
    row = claim(tx, workflows_db.OPERATION, op["id"])
    wf = workflow(tx, workflows_db.OPERATION, row, "e1")
    wf.run("a", lambda: "did a")
    bucket = wf.state.setdefault("server", {})
    with pytest.raises(RuntimeError):
        # The engine dies after announcing the create, before recording its result.
        wf.ensure(bucket, lambda: None, lambda: (_ for _ in ()).throw(RuntimeError()))
    with tx() as session:
        workflows_db.save(session, workflows_db.OPERATION, op["id"], "e1",
                          {"lease_expires_at": T0})  # its lease runs out
    row = claim(tx, workflows_db.OPERATION, op["id"], "e2")
    resumed = workflow(tx, workflows_db.OPERATION, row, "e2")
    assert resumed.step("a")["status"] == "DONE"
    assert resumed.state["server"] == {"pending": True}
    ran = []
    resumed.run("a", lambda: ran.append("a again"))
    made = resumed.ensure(resumed.state["server"], lambda: "srv-1",
                          lambda: ran.append("created twice"))
    assert made == "srv-1" and ran == []
    with pytest.raises(LeaseLost):
        wf.save()  # the first engine, back from the dead, cannot write any more


def test_a_failed_restore_point_is_cleaned_up_and_says_why(tx):
    plan = new_plan(tx)
    capture = FakeCapture(fail="server s2 no longer exists in R1")
    engine = worker(tx, capture)
    (point_id,) = engine.schedule(now=T0)
    engine.run_restore_point(workflow(tx, workflows_db.RESTORE_POINT,
                                      claim(tx, workflows_db.RESTORE_POINT, point_id), "e1"))
    with tx() as session:
        point = workflows_db.get_restore_point(session, point_id)
    assert point["status"] == "ERROR"
    assert point["error"] == "snapshot: server s2 no longer exists in R1"
    assert point["steps"][0]["status"] == "FAILED" and point["lease_owner"] is None
    assert capture.abandoned == [point_id] and plan["id"] == point["plan_id"]


def test_restore_points_beyond_retention_are_pruned_chain_by_chain(tx):
    plan = new_plan(tx, retention=1)
    engine = worker(tx)
    taken = []
    for _ in range(3):
        with tx() as session:
            point = workflows_db.create_restore_point(
                session, plans_db.find_plan(session, plan["id"]), "requested", "R2")
        claimed = claim(tx, workflows_db.RESTORE_POINT, point["id"])
        engine.run_restore_point(workflow(tx, workflows_db.RESTORE_POINT, claimed, "e1"))
        taken.append(point["id"])
    with tx() as session:
        statuses = [p["status"] for p in workflows_db.list_restore_points(session, plan["id"])]
    # Retention 1: every restore point starts a chain, the older ones go.
    assert statuses == ["DELETING", "DELETING", "AVAILABLE"]
    plan2 = new_plan(tx, retention=3, servers=["s3"])
    for _ in range(4):
        with tx() as session:
            point = workflows_db.create_restore_point(
                session, plans_db.find_plan(session, plan2["id"]), "requested", "R2")
        claimed = claim(tx, workflows_db.RESTORE_POINT, point["id"])
        engine.run_restore_point(workflow(tx, workflows_db.RESTORE_POINT, claimed, "e1"))
    with tx() as session:
        points = workflows_db.list_restore_points(session, plan2["id"])
    # Retention 3: the first chain (3 points) is kept whole while the second starts.
    assert [p["status"] for p in points] == ["AVAILABLE"] * 4
    assert [p["chain_id"] == points[0]["id"] for p in points] == [True, True, True, False]


def test_a_failed_failover_is_rolled_back_and_the_plan_left_as_it_was(tx):
    plan = new_plan(tx)
    with tx() as session:
        plans_db.update_plan(session, plan["id"], {"status": "FAILING_OVER"})
        op = workflows_db.create_operation(session, {
            "plan_id": plan["id"], "project_id": "p", "kind": "failover",
            "restore_point_id": None, "from_region": "R1", "to_region": "R2",
            "requested_by": "admin", "request_id": None,
            "steps": [dr_steps.step("import_backups", "i"),
                      dr_steps.step("restore_volumes", "r")]})
    recovery = FakeRecovery(fail="RegionTwo: HTTP 413: over quota")
    engine = worker(tx, recovery=recovery)
    claimed = claim(tx, workflows_db.OPERATION, op["id"])
    engine.run_operation(workflow(tx, workflows_db.OPERATION, claimed, "e1"))
    with tx() as session:
        done = workflows_db.get_operation(session, op["id"])
        after = plans_db.find_plan(session, plan["id"])
    assert done["status"] == "FAILURE" and done["finished_at"] is not None
    assert done["error"] == ("restore_volumes: RegionTwo: HTTP 413: over quota "
                             "(removed from R2: 0 servers)")
    assert [s["status"] for s in done["steps"]] == ["DONE", "FAILED"]
    assert recovery.rolled_back == [op["id"]]
    assert after["status"] == "ACTIVE" and "over quota" in after["error"]


def test_a_deleted_plan_goes_after_its_restore_points(tx):
    plan = new_plan(tx)
    capture = FakeCapture()
    engine = worker(tx, capture)
    (point_id,) = engine.schedule(now=T0)
    engine.run_restore_point(workflow(tx, workflows_db.RESTORE_POINT,
                                      claim(tx, workflows_db.RESTORE_POINT, point_id), "e1"))
    with tx() as session:
        plans_db.update_plan(session, plan["id"], {"status": "DELETING"})
    engine.finish_deleted_plans()
    row = claim(tx, workflows_db.RESTORE_POINT, point_id)
    assert row["status"] == "DELETING"
    engine.run_restore_point(workflow(tx, workflows_db.RESTORE_POINT, row, "e1"))
    assert capture.deleted == [point_id]
    engine.finish_deleted_plans()
    with tx() as session:
        assert plans_db.find_plan(session, plan["id"]) is None


def test_the_worker_runs_claimed_workflows_on_its_pool(tx):
    new_plan(tx)
    engine = worker(tx)
    try:
        engine.tick()  # queues the first restore point
        done = threading.Event()

        def finished():
            with tx() as session:
                plan_id = plans_db.list_plans(session)[0]["id"]
                points = workflows_db.list_restore_points(session, plan_id)
            return points and points[0]["status"] == "AVAILABLE"

        for _ in range(100):
            engine.tick()
            if finished():
                done.set()
                break
            threading.Event().wait(0.02)
        assert done.is_set()
    finally:
        engine.shutdown()
