"""The engine's worker of geo-site disaster recovery.

Each tick it (1) queues a restore point for every ACTIVE plan that is due (its
interval passed, or one was requested), (2) finishes the deletion of plans
being deleted, and (3) claims restore points and failover/failback operations
no engine holds — new ones, or those whose engine died (lease expired) — and
runs them on a bounded pool. A workflow resumed after a crash goes on from its
recorded steps and state (``dr_workflow``). After a restore point is taken, the
plan's restore points beyond retention are marked for deletion.
"""

from __future__ import annotations

import concurrent.futures as cf
import datetime as dt
import logging
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from kingbird.core.exceptions import KingbirdError, RegionError
from kingbird.dr import plan_repository as plans_db
from kingbird.dr import retention
from kingbird.dr import steps as dr_steps
from kingbird.dr import workflow_repository as workflows_db
from kingbird.dr.capture import Capture
from kingbird.dr.recovery import Recovery
from kingbird.dr.workflow import LeaseLost, StepFailed, Workflow
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


def _message(exc: Exception) -> str:
    return getattr(exc, "message", None) or str(exc) or type(exc).__name__


def _failure(exc: Exception, what: str) -> str:
    """What the user is told of a workflow's failure: the reason of an expected one;
    for a bug, its type only (the traceback goes to the log)."""
    if isinstance(exc, StepFailed | RegionError | ValueError):
        return _message(exc)
    LOG.exception("%s crashed", what)
    return f"internal error: {type(exc).__name__}"


class DrWorker:
    """Schedules and runs DR workflows.

    :param capture: takes and deletes restore points.
    :param recovery: runs failovers and failbacks.
    :param trusts: revokes the trust of a deleted plan (None: left in Keystone).
    """

    def __init__(self, capture: Capture, recovery: Recovery, db: Db, owner: str, *,
                 workers: int, lease_seconds: float, trusts: Trusts | None = None):
        self.capture = capture
        self.recovery = recovery
        self.db = db
        self.owner = owner
        self.workers = workers
        self.lease_seconds = lease_seconds
        self.trusts = trusts
        self.stopping = threading.Event()
        self._pool = cf.ThreadPoolExecutor(max_workers=workers,
                                           thread_name_prefix="kingbird-dr")
        self._running: set[tuple[str, str]] = set()
        self._lock = threading.Lock()

    # -- worker protocol ----------------------------------------------------------------

    def tick(self) -> None:
        if self.stopping.is_set():
            return
        self.schedule()
        self.finish_deleted_plans()
        for kind in (workflows_db.OPERATION, workflows_db.RESTORE_POINT):
            with self.db() as session:
                candidates = workflows_db.claimable(session, kind)
            for workflow_id in candidates:
                with self._lock:
                    if len(self._running) >= self.workers or (kind, workflow_id) in self._running:
                        continue
                with self.db() as session:
                    row = workflows_db.claim(session, kind, workflow_id, self.owner,
                                                self.lease_seconds)
                if row is None:
                    continue
                with self._lock:
                    self._running.add((kind, workflow_id))
                self._pool.submit(self._run, kind, row)

    def shutdown(self) -> None:
        """Stop at the next step; leases expire and another engine resumes."""
        self.stopping.set()
        self._pool.shutdown(wait=True, cancel_futures=True)

    def idle(self) -> bool:
        with self._lock:
            return not self._running

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

    def _run(self, kind: str, row: dict) -> None:
        try:
            wf = Workflow(self.db, kind, row, self.owner, self.lease_seconds, self.stopping)
            if kind == workflows_db.RESTORE_POINT:
                self.run_restore_point(wf)
            else:
                self.run_operation(wf)
        except LeaseLost as exc:
            LOG.info("DR %s %s left to another engine: %s", kind, row["id"], exc)
        except SQLAlchemyError as exc:
            LOG.warning("DR %s %s interrupted by the database: %s", kind, row["id"], exc)
        except Exception:
            LOG.exception("DR %s %s crashed", kind, row["id"])
        finally:
            with self._lock:
                self._running.discard((kind, row["id"]))

    def run_restore_point(self, wf: Workflow) -> None:
        point = wf.row
        with self.db() as session:
            plan = plans_db.find_plan(session, point["plan_id"])
            previous = [p for p in workflows_db.list_restore_points(session, point["plan_id"])
                        if p["id"] != point["id"]]
        if point["status"] == "DELETING":
            self._delete_restore_point(wf, point, previous)
            return
        result, message = None, None
        try:
            if plan is None or plan["status"] == "DELETING":
                raise StepFailed("the plan is being deleted")
            result = self.capture.take(wf, plan, point, previous)
        except (LeaseLost, SQLAlchemyError):
            raise
        except Exception as exc:
            message = _failure(exc, f"restore point {point['id']}")
        if message is not None:
            wf.fail_running(message)
            left = self.capture.abandon(wf, plan, point)
            error = f"{wf.failed_step() or 'restore point'}: {message}"
            if left:
                error += f" (cleanup incomplete: {left})"
            wf.save(status="ERROR", error=error, lease_owner=None, lease_expires_at=None)
            LOG.warning("restore point %s of plan %s failed: %s", point["id"],
                        point["plan_id"], error)
            return
        wf.save(status="AVAILABLE", completed_at=_now(), lease_owner=None,
                lease_expires_at=None, error=None, **result)
        LOG.info("restore point %s of plan %s available (%d GB)", point["id"],
                 point["plan_id"], result["size_gb"])
        self.prune(point["plan_id"])

    def _delete_restore_point(self, wf: Workflow, point: dict, others: list[dict]) -> None:
        if retention.blocking_deletion(point, others):
            with self.db() as session:
                workflows_db.release(session, workflows_db.RESTORE_POINT, point["id"], self.owner)
            return
        try:
            self.capture.delete(wf, point)
        except (RegionError, StepFailed) as exc:
            if point["attempts"] < DELETE_ATTEMPTS:
                LOG.info("restore point %s: deletion to retry (%s)", point["id"], _message(exc))
                retry_at = _now() + dt.timedelta(seconds=30 * point["attempts"])
                wf.save(error=f"deletion: {_message(exc)}", lease_expires_at=retry_at)
                return
            LOG.warning("restore point %s forgotten; its backups in %s were not deleted: %s",
                        point["id"], point["region"], _message(exc))
        with self.db() as session:
            workflows_db.delete_restore_point_row(session, point["id"])
        LOG.info("restore point %s of plan %s deleted", point["id"], point["plan_id"])

    def run_operation(self, wf: Workflow) -> None:
        op = wf.row
        with self.db() as session:
            plan = plans_db.find_plan(session, op["plan_id"])
        if op["status"] == "QUEUED":
            wf.save(status="IN_PROGRESS", started_at=_now())
        message = None
        try:
            if plan is None:
                raise StepFailed("the plan was deleted")
            self.recovery.run(wf, plan, op)
        except (LeaseLost, SQLAlchemyError):
            raise
        except Exception as exc:
            message = _failure(exc, f"{op['kind']} {op['id']}")
        if message is not None:
            wf.fail_running(message)
            step = wf.failed_step() or op["kind"]
            undone = self.recovery.rollback(wf, plan, op) if plan is not None else ""
            error = f"{step}: {message}" + (f" ({undone})" if undone else "")
            wf.save(status="FAILURE", error=error, finished_at=_now(), lease_owner=None,
                    lease_expires_at=None)
            if plan is not None:
                back = _FINISHED_PLAN_STATUS[op["kind"]][0]
                with self.db() as session:
                    plans_db.update_plan(session, plan["id"], {"status": back,
                                                             "error": f"{op['kind']} "
                                                                      f"{op['id']}: {message}"})
            LOG.warning("%s %s of plan %s failed: %s", op["kind"], op["id"], op["plan_id"],
                        error)
            return
        for entry in wf.steps:
            if entry["status"] == dr_steps.PENDING:
                entry["status"] = dr_steps.SKIPPED
        wf.save(status="SUCCESS", finished_at=_now(), error=None, lease_owner=None,
                lease_expires_at=None)
        LOG.info("%s %s of plan %s succeeded", op["kind"], op["id"], op["plan_id"])


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
