"""Decides which projects to sync when, and runs them on a bounded pool.

Two sources of work: on-demand requests recorded in the database (API ``sync``,
limit changes), looked for every ``[engine] poll_interval``; and the periodic
cycle over every project every ``[quota] sync_interval``. Each project sync is
guarded by a lease in the database, so several engines never sync the same
project at once, and a project is never queued twice inside one engine.
"""

from __future__ import annotations

import concurrent.futures as cf
import datetime as dt
import logging
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from kingbird.db import api as db_api
from kingbird.engine.quota_sync import QuotaSyncer
from kingbird.exceptions import KingbirdError

LOG = logging.getLogger(__name__)


class QuotaScheduler:
    def __init__(self, syncer: QuotaSyncer,
                 db: Callable[[], AbstractContextManager[Session]],
                 list_projects: Callable[[], list[str]], owner: str, *,
                 sync_interval: float, lease_seconds: float, workers: int):
        self.syncer = syncer
        self.db = db
        self.list_projects = list_projects
        self.owner = owner
        self.sync_interval = sync_interval
        self.lease_seconds = lease_seconds
        self._pool = cf.ThreadPoolExecutor(max_workers=workers,
                                           thread_name_prefix="kingbird-quota")
        self._queued: set[str] = set()
        self._lock = threading.Lock()
        self._next_cycle = time.monotonic()
        self.cycles = 0

    def tick(self) -> None:
        """Queue due work; returns at once (the syncs run on the pool)."""
        with self.db() as session:
            projects = db_api.projects_with_pending_sync_requests(session)
        if time.monotonic() >= self._next_cycle:
            self._next_cycle = time.monotonic() + self.sync_interval
            projects = list(dict.fromkeys(projects + self._all_projects()))
            self.cycles += 1
        for project_id in projects:
            self._submit(project_id)

    def _all_projects(self) -> list[str]:
        with self.db() as session:
            known = db_api.projects_with_limits(session)
        try:
            known += self.list_projects()
        except KingbirdError as exc:
            LOG.warning("cannot list projects from Keystone, syncing only those with "
                        "limits: %s", exc.message)
        return list(dict.fromkeys(known))

    def _submit(self, project_id: str) -> None:
        with self._lock:
            if project_id in self._queued:
                return
            self._queued.add(project_id)
        self._pool.submit(self._run, project_id)

    def _run(self, project_id: str) -> None:
        try:
            started_at = dt.datetime.now(dt.UTC)
            with self.db() as session:
                claimed = db_api.claim_project_sync(session, project_id, self.owner,
                                                    self.lease_seconds)
            if claimed:
                self.syncer.sync(project_id, owner=self.owner, started_at=started_at)
        except (KingbirdError, SQLAlchemyError) as exc:
            LOG.warning("quota sync of %s interrupted: %s", project_id, exc)
        except Exception:
            LOG.exception("quota sync of %s crashed", project_id)
        finally:
            with self._lock:
                self._queued.discard(project_id)

    def idle(self) -> bool:
        with self._lock:
            return not self._queued

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
