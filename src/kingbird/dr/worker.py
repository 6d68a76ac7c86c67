"""The engine's worker of geo-site disaster recovery.

Each tick it (1) queues a restore point for every ACTIVE plan that is due (its
interval passed, or one was requested), (2) finishes the deletion of plans
being deleted, and (3) claims restore points and failover/failback operations
no engine holds — new ones, or those whose engine died (lease expired) — and
runs them on a bounded pool. A workflow resumed after a crash goes on from its
recorded steps and state (``dr_workflow``). After a restore point is taken, the
plan's restore points beyond retention are marked for deletion.

The worker is a ``kingbird.engine.leased_work.LeasedWorker``: the leases of the
running workflows are renewed in the background for as long as they run, and
each workflow's outcome is recorded by the ``LeasedWork`` of its kind below.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Callable, Hashable
from contextlib import AbstractContextManager

from sqlalchemy.orm import Session

from kingbird.core.exceptions import KingbirdError, RegionError, WorkFailed
from kingbird.dr import plan_repository as plans_db
from kingbird.dr import retention
from kingbird.dr import steps as dr_steps
from kingbird.dr import workflow_repository as workflows_db
from kingbird.dr.capture import Capture
from kingbird.dr.recovery import Recovery
from kingbird.dr.workflow import Workflow
from kingbird.engine.leased_work import Lease, LeasedWork, LeasedWorker
from kingbird.regions.trusts import Trusts

LOG = logging.getLogger(__name__)

Db = Callable[[], AbstractContextManager[Session]]
# A restore point whose backups cannot be deleted (their region is gone) is
# forgotten after this many attempts; the backups are left to the admin.
DELETE_ATTEMPTS = 5
_FINISHED_PLAN_STATUS = {"failover": ("ACTIVE", "FAILING_OVER"),
                         "failback": ("FAILED_OVER", "FAILING_BACK")}


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class _WorkflowWork(LeasedWork):
    """A claimed DR workflow: the user is told the reason of an expected failure."""

    expected = (WorkFailed, RegionError, ValueError)

    def __init__(self, worker: DrWorker, wf: Workflow, name: str):
        super().__init__((wf.kind, wf.id), name, wf.lease)
        self.worker = worker
        self.wf = wf


class RestorePointCapture(_WorkflowWork):
    """A restore point being taken (``CREATING``)."""

    def __init__(self, worker: DrWorker, wf: Workflow):
        super().__init__(worker, wf, f"restore point {wf.id}")
        self.plan: dict | None = None
        self.result: dict = {}

    def run(self) -> None:
        point = self.wf.row
        with self.worker.db() as session:
            self.plan = plans_db.find_plan(session, point["plan_id"])
            previous = [p for p in workflows_db.list_restore_points(session, point["plan_id"])
                        if p["id"] != point["id"]]
        if self.plan is None or self.plan["status"] == "DELETING":
            raise WorkFailed("the plan is being deleted")
        self.result = self.worker.capture.take(self.wf, self.plan, point, previous)

    def finish(self) -> None:
        point = self.wf.row
        self.wf.release(status="AVAILABLE", completed_at=_now(), error=None, **self.result)
        LOG.info("restore point %s of plan %s available (%d GB)", point["id"],
                 point["plan_id"], self.result["size_gb"])
        self.worker.prune(point["plan_id"])

    def fail(self, reason: str) -> None:
        wf, point = self.wf, self.wf.row
        wf.fail_running(reason)
        left = self.worker.capture.abandon(wf, self.plan, point)
        error = f"{wf.failed_step() or 'restore point'}: {reason}"
        if left:
            error += f" (cleanup incomplete: {left})"
        wf.release(status="ERROR", error=error)
        LOG.warning("restore point %s of plan %s failed: %s", point["id"], point["plan_id"],
                    error)


class RestorePointDeletion(_WorkflowWork):
    """A restore point whose backups are being deleted (``DELETING``)."""

    def __init__(self, worker: DrWorker, wf: Workflow):
        super().__init__(worker, wf, f"deletion of restore point {wf.id}")
        self.blocked = False

    def run(self) -> None:
        point = self.wf.row
        with self.worker.db() as session:
            others = [p for p in workflows_db.list_restore_points(session, point["plan_id"])
                      if p["id"] != point["id"]]
        # Another restore point still builds on this one's backups: wait for it.
        self.blocked = retention.blocking_deletion(point, others)
        if not self.blocked:
            self.worker.capture.delete(self.wf, point)

    def finish(self) -> None:
        if self.blocked:
            self.wf.release()
            return
        self._forget()

    def retry(self, exc: Exception, reason: str) -> bool:
        point = self.wf.row
        if not isinstance(exc, RegionError | WorkFailed):
            return True  # a bug: left to its lease, claimed again when it expires
        if point["attempts"] >= DELETE_ATTEMPTS:
            return False
        LOG.info("restore point %s: deletion to retry (%s)", point["id"], reason)
        self.wf.release(until=_now() + dt.timedelta(seconds=30 * point["attempts"]),
                        error=f"deletion: {reason}")
        return True

    def fail(self, reason: str) -> None:
        point = self.wf.row
        LOG.warning("restore point %s forgotten; its backups in %s were not deleted: %s",
                    point["id"], point["region"], reason)
        self._forget()

    def _forget(self) -> None:
        point = self.wf.row
        with self.worker.db() as session:
            workflows_db.delete_restore_point_row(session, point["id"])
        LOG.info("restore point %s of plan %s deleted", point["id"], point["plan_id"])


class RecoveryOperation(_WorkflowWork):
    """A failover or a failback."""

    def __init__(self, worker: DrWorker, wf: Workflow):
        super().__init__(worker, wf, f"{wf.row['kind']} {wf.id}")
        self.plan: dict | None = None

    def run(self) -> None:
        op = self.wf.row
        with self.worker.db() as session:
            self.plan = plans_db.find_plan(session, op["plan_id"])
        if op["status"] == "QUEUED":
            self.wf.save(status="IN_PROGRESS", started_at=_now())
        if self.plan is None:
            raise WorkFailed("the plan was deleted")
        self.worker.recovery.run(self.wf, self.plan, op)

    def finish(self) -> None:
        wf, op = self.wf, self.wf.row
        for entry in wf.steps:
            if entry["status"] == dr_steps.PENDING:
                entry["status"] = dr_steps.SKIPPED
        wf.release(status="SUCCESS", finished_at=_now(), error=None)
        LOG.info("%s %s of plan %s succeeded", op["kind"], op["id"], op["plan_id"])

    def fail(self, reason: str) -> None:
        wf, op, plan = self.wf, self.wf.row, self.plan
        wf.fail_running(reason)
        step = wf.failed_step() or op["kind"]
        undone = self.worker.recovery.rollback(wf, plan, op) if plan is not None else ""
        error = f"{step}: {reason}" + (f" ({undone})" if undone else "")
        wf.release(status="FAILURE", error=error, finished_at=_now())
        if plan is not None:
            back = _FINISHED_PLAN_STATUS[op["kind"]][0]
            with self.worker.db() as session:
                plans_db.update_plan(session, plan["id"], {
                    "status": back, "error": f"{op['kind']} {op['id']}: {reason}"})
        LOG.warning("%s %s of plan %s failed: %s", op["kind"], op["id"], op["plan_id"], error)


class DrWorker(LeasedWorker):
    """Schedules and runs DR workflows.

    :param capture: takes and deletes restore points.
    :param recovery: runs failovers and failbacks.
    :param trusts: revokes the trust of a deleted plan (None: left in Keystone).
    """

    def __init__(self, capture: Capture, recovery: Recovery, db: Db, owner: str, *,
                 workers: int, lease_seconds: float, trusts: Trusts | None = None):
        super().__init__(owner, workers=workers, lease_seconds=lease_seconds, name="dr")
        self.capture = capture
        self.recovery = recovery
        self.db = db
        self.trusts = trusts

    # -- worker protocol ----------------------------------------------------------------

    def tick(self) -> None:
        if self.stopping.is_set():
            return
        self.schedule()
        self.finish_deleted_plans()
        self.fill()

    def claim(self, limit: int) -> list[LeasedWork]:
        claimed: list[LeasedWork] = []
        for kind in (workflows_db.OPERATION, workflows_db.RESTORE_POINT):
            with self.db() as session:
                candidates = workflows_db.claimable(session, kind)
            for workflow_id in candidates:
                if len(claimed) >= limit:
                    return claimed
                if self.busy_with((kind, workflow_id)):
                    continue
                with self.db() as session:
                    row = workflows_db.claim(session, kind, workflow_id, self.owner,
                                             self.lease_seconds)
                if row is not None:
                    claimed.append(self.work(Workflow(self.db, kind, row, self.owner,
                                                      Lease(f"{kind} {workflow_id}"))))
        return claimed

    def renew(self, keys: list[Hashable]) -> list[tuple[str, str]]:
        by_kind: dict[str, list[str]] = defaultdict(list)
        for kind, workflow_id in keys:  # type: ignore[misc]
            by_kind[kind].append(workflow_id)
        with self.db() as session:
            return [(kind, workflow_id) for kind, ids in by_kind.items()
                    for workflow_id in workflows_db.renew(session, kind, ids, self.owner,
                                                          self.lease_seconds)]

    def work(self, wf: Workflow) -> LeasedWork:
        """What to do with a claimed workflow."""
        if wf.kind == workflows_db.OPERATION:
            return RecoveryOperation(self, wf)
        if wf.row["status"] == "DELETING":
            return RestorePointDeletion(self, wf)
        return RestorePointCapture(self, wf)

    # -- scheduling ---------------------------------------------------------------------

    def schedule(self, now: dt.datetime | None = None) -> list[str]:
        """Queue the restore points that are due; their ids."""
        now = now or _now()
        queued = []
        with self.db() as session:
            due = plans_db.due_plans(session, now)
        for plan in due:
            with self.db() as session:
                # One restore point at a time: the next waits for the current one.
                if any(p["status"] == "CREATING"
                       for p in workflows_db.list_restore_points(session, plan["id"])):
                    continue
                if not plans_db.take_schedule_slot(
                        session, plan, now + dt.timedelta(seconds=plan["interval"])):
                    continue
                purpose = "requested" if plan["restore_point_requested_at"] else "scheduled"
                point = workflows_db.create_restore_point(session, plan, purpose,
                                                          target_region=plan["recovery_region"])
            queued.append(point["id"])
            LOG.info("plan %s: restore point %s queued (%s)", plan["id"], point["id"], purpose)
        return queued

    def prune(self, plan_id: str) -> list[str]:
        """Mark the plan's restore points beyond retention for deletion."""
        with self.db() as session:
            plan = plans_db.find_plan(session, plan_id)
            if plan is None:
                return []
            points = workflows_db.list_restore_points(session, plan_id)
            in_use = {o["restore_point_id"] for o in workflows_db.list_operations(
                session, plan_id=plan_id) if o["status"] in ("QUEUED", "IN_PROGRESS")}
            doomed = retention.prunable(points, plan["retention"], in_use)
            for point_id in doomed:
                workflows_db.save(session, workflows_db.RESTORE_POINT, point_id, None,
                                  {"status": "DELETING"})
        if doomed:
            LOG.info("plan %s: %d restore points beyond retention to delete", plan_id,
                     len(doomed))
        return doomed

    def finish_deleted_plans(self) -> None:
        """Plans being deleted go once their restore points are; their trust too."""
        with self.db() as session:
            deleting = plans_db.list_plans(session, status="DELETING")
        for plan in deleting:
            with self.db() as session:
                points = workflows_db.list_restore_points(session, plan["id"])
                for point in points:
                    if point["status"] in ("AVAILABLE", "ERROR"):
                        workflows_db.save(session, workflows_db.RESTORE_POINT, point["id"], None,
                                          {"status": "DELETING"})
                if points:
                    continue
                plans_db.delete_plan(session, plan["id"])
            if self.trusts is not None and plan["trust_id"]:
                try:
                    self.trusts.delete(plan["trust_id"])
                except KingbirdError as exc:
                    LOG.warning("plan %s deleted, its trust %s was not: %s", plan["id"],
                                plan["trust_id"], exc.message)
            LOG.info("plan %s deleted", plan["id"])

    # -- running ------------------------------------------------------------------------

    def run_restore_point(self, wf: Workflow) -> None:
        """Take or delete a claimed restore point now, in this thread."""
        self.carry_out(self.work(wf))

    def run_operation(self, wf: Workflow) -> None:
        """Run a claimed failover or failback now, in this thread."""
        self.carry_out(self.work(wf))


def build_dr_worker(conf, db: Db, clients, keystone, owner: str, copiers) -> DrWorker:
    """The DR worker from a loaded configuration and the runtime's parts.

    :param clients: the runtime's ``RegionClients`` (with trust access).
    :param keystone: the service's keystoneauth session (trusts).
    :param copiers: the resource sync copiers.
    """
    from kingbird.dr.access import DrAccess

    access = DrAccess(clients, copiers)
    return DrWorker(Capture(access), Recovery(access, db), db, owner,
                    workers=conf.engine.job_workers, lease_seconds=conf.engine.lease_seconds,
                    trusts=Trusts(keystone, conf.regions.interface))
