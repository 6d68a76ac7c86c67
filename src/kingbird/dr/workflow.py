"""One DR workflow in an engine's hands: its steps, its state, its lease.

A workflow (a restore point being taken or deleted, a failover, a failback) is a
list of named steps and a ``state`` dict of what they did. Every change is
written to the database at once, under the engine's lease, so an engine that
takes the workflow over after a crash finds each step's progress: steps marked
``DONE`` are not run again, and a step that was running resumes from its state
(``ensure`` records that a create is about to happen before making the call, and
looks for the result of a call whose answer was lost).

The lease is renewed in the background by the engine's worker
(``kingbird.engine.leased_work``) for as long as the workflow runs; long steps
call ``check`` often, so that a workflow taken over by another engine (or whose
engine is stopping) stops at once.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

from sqlalchemy.orm import Session

from kingbird.core.exceptions import LeaseLost, WorkFailed
from kingbird.dr import steps as dr_steps
from kingbird.dr import workflow_repository as workflows_db
from kingbird.engine.leased_work import Lease

LOG = logging.getLogger(__name__)

WAIT_TIMEOUT = 900.0  # seconds a region gets to bring a resource to its wanted status


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def status_error(resource: dict) -> str | None:
    """Why a resource polled by ``Workflow.wait`` will never get ready (its status
    is an error), else None."""
    status = str(resource.get("status", "")).lower()
    return f"status {status}" if status.startswith("error") or status == "killed" else None


class Workflow:
    """A claimed restore point or operation.

    :param kind: ``restore_point`` or ``operation`` (``kingbird.dr.workflow_repository``).
    :param row: the row as claimed (``steps``, ``state`` are worked on in place).
    :param lease: ``owner``'s lease on the row, flagged lost if it was taken over.
    """

    def __init__(self, db: Callable[[], AbstractContextManager[Session]], kind: str,
                 row: dict, owner: str, lease: Lease):
        self.db = db
        self.kind = kind
        self.row = row
        self.id = row["id"]
        self.steps: list[dict] = list(row["steps"] or [])
        self.state: dict[str, Any] = dict(row["state"] or {})
        self.owner = owner
        self.lease = lease

    # -- persistence ------------------------------------------------------------------

    def save(self, **columns) -> None:
        """Write steps, state and ``columns``.

        :raises LeaseLost: the lease is not ours any more.
        """
        with self.db() as session:
            kept = workflows_db.save(session, self.kind, self.id, self.owner,
                                     {"steps": self.steps, "state": self.state, **columns})
        if not kept:
            self.lease.lose("taken over")
            raise LeaseLost(f"{self.kind} {self.id}")

    def release(self, until: dt.datetime | None = None, **columns) -> None:
        """Write steps, state and ``columns``, and give the lease back; with
        ``until``, no engine claims the workflow again before then.

        :raises LeaseLost: the lease is not ours any more.
        """
        with self.db() as session:
            kept = workflows_db.release(session, self.kind, self.id, self.owner,
                                        {"steps": self.steps, "state": self.state, **columns},
                                        until=until)
        if not kept:
            self.lease.lose("taken over")
            raise LeaseLost(f"{self.kind} {self.id}")

    def check(self) -> None:
        """Called often by long steps.

        :raises LeaseLost: the lease was lost, or the engine is stopping.
        """
        self.lease.check()

    # -- steps ------------------------------------------------------------------------

    def step(self, name: str) -> dict:
        for entry in self.steps:
            if entry["name"] == name:
                return entry
        raise KeyError(name)

    def has(self, name: str) -> bool:
        return any(entry["name"] == name for entry in self.steps)

    def run(self, name: str, action: Callable[[], str | None]) -> None:
        """Run step ``name`` unless it is done; ``action`` returns the step's detail.

        :raises WorkFailed: (the step is marked FAILED) the action failed.
        """
        entry = self.step(name)
        if entry["status"] in (dr_steps.DONE, dr_steps.SKIPPED):
            return
        entry.update(status=dr_steps.RUNNING, started_at=entry["started_at"] or _now().isoformat())
        self.save()
        LOG.info("%s %s: step %s", self.kind, self.id, name)
        detail = action()
        entry.update(status=dr_steps.DONE, detail=detail, finished_at=_now().isoformat())
        self.save()

    def fail_running(self, message: str) -> None:
        """Mark the running step (if any) FAILED with ``message`` (not saved)."""
        for entry in self.steps:
            if entry["status"] == dr_steps.RUNNING:
                entry.update(status=dr_steps.FAILED, detail=message,
                             finished_at=_now().isoformat())

    def failed_step(self) -> str | None:
        return next((e["name"] for e in self.steps if e["status"] == dr_steps.FAILED), None)

    # -- idempotent creates and waits ---------------------------------------------------

    def ensure(self, bucket: dict, find: Callable[[], str | None],
               create: Callable[[], str]) -> str:
        """The id recorded in ``bucket``; else the one ``find`` sees (a create whose
        answer was lost); else what ``create`` makes, announced in ``bucket`` first.

        ``bucket`` is a dict inside ``state``; it gets ``id`` (and ``pending``
        while the create is in flight).
        """
        if bucket.get("id"):
            return bucket["id"]
        if bucket.get("pending"):
            found = find()
            if found:
                bucket.pop("pending", None)
                bucket["id"] = found
                self.save()
                return found
        bucket["pending"] = True
        self.save()
        bucket["id"] = create()
        bucket.pop("pending", None)
        self.save()
        return bucket["id"]

    def wait(self, what: str, fetch: Callable[[], dict | None], ready: Callable[[dict], bool],
             failed: Callable[[dict], str | None] = lambda _: None,
             timeout: float = WAIT_TIMEOUT, gone_ok: bool = False) -> dict | None:
        """Poll ``fetch`` until ``ready`` (returned), renewing the lease meanwhile.

        :param failed: the reason the resource will never be ready, else None.
        :param gone_ok: ``fetch`` answering None is the awaited outcome.
        :raises WorkFailed: failed, vanished, or not ready within ``timeout``.
        """
        deadline = time.monotonic() + timeout
        pause = 0.1
        while True:
            current = fetch()
            if current is None:
                if gone_ok:
                    return None
                raise WorkFailed(f"{what} disappeared")
            if ready(current):
                return current
            reason = failed(current)
            if reason:
                raise WorkFailed(f"{what}: {reason}")
            if time.monotonic() > deadline:
                raise WorkFailed(f"{what} not ready after {timeout:.0f} s")
            self.check()
            time.sleep(pause)
            pause = min(pause * 2, 2.0)
