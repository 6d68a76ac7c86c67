"""Runs the reconcilers of cross-region networking on a bounded pool.

Each tick asks the database which objects are due (a change through the API, or
their periodic reconcile: every ``[networking] poll_interval``), and runs one
reconcile per object, under a lease in the database so that several engines
never work on the same object at once. A reconcile renews its lease between
steps (``KeepAlive``); an engine that lost it stops at the next step, and the
object is reconciled again by whichever engine holds it then — every step is
idempotent, so doing part of the work twice is harmless.
"""

from __future__ import annotations

import concurrent.futures as cf
import datetime as dt
import logging
import threading
import time
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from kingbird.core.exceptions import KingbirdError
from kingbird.network import reconcile_leases as reconcile_db

LOG = logging.getLogger(__name__)


class LeaseLost(Exception):
    """Another engine took the object over: stop working on it."""


class KeepAlive:
    """Called between steps: renews the lease when a third of it has passed."""

    def __init__(self, db: Callable[[], AbstractContextManager[Session]], kind: str,
                 object_id: str, owner: str, lease_seconds: float):
        self.db = db
        self.kind = kind
        self.object_id = object_id
        self.owner = owner
        self.lease_seconds = lease_seconds
        self._renewed = time.monotonic()

    def __call__(self) -> None:
        """:raises LeaseLost: the lease expired and another engine holds it."""
        if time.monotonic() - self._renewed < self.lease_seconds / 3:
            return
        with self.db() as session:
            held = reconcile_db.renew_object_lease(session, self.kind, self.object_id, self.owner,
                                             self.lease_seconds)
        if not held:
            raise LeaseLost(f"{self.kind} {self.object_id}")
        self._renewed = time.monotonic()


Reconciler = Callable[[str, KeepAlive], None]


class NetworkWorker:
    """The engine's worker for global networks, security group rules and routers.

    :param reconcilers: kind (``network``, ``sg_rule``, ``router``) -> a callable
        reconciling one object of that kind.
    """

    def __init__(self, reconcilers: Mapping[str, Reconciler],
                 db: Callable[[], AbstractContextManager[Session]], owner: str, *,
                 poll_interval: float, lease_seconds: float, workers: int):
        self.reconcilers = dict(reconcilers)
        self.db = db
        self.owner = owner
        self.poll_interval = poll_interval
        self.lease_seconds = lease_seconds
        self._pool = cf.ThreadPoolExecutor(max_workers=workers,
                                           thread_name_prefix="kingbird-network")
        self._queued: set[tuple[str, str]] = set()
        self._lock = threading.Lock()

    def tick(self) -> None:
        """Queue every due object; returns at once (reconciles run on the pool)."""
        for kind in self.reconcilers:
            with self.db() as session:
                due = reconcile_db.due_objects(session, kind)
            for object_id in due:
                self._submit(kind, object_id)

    def _submit(self, kind: str, object_id: str) -> None:
        with self._lock:
            if (kind, object_id) in self._queued:
                return
            self._queued.add((kind, object_id))
        self._pool.submit(self._run, kind, object_id)

    def run_once(self, kind: str, object_id: str) -> bool:
        """Reconcile one object now, in this thread; False if another engine holds it."""
        started = dt.datetime.now(dt.UTC)
        with self.db() as session:
            if not reconcile_db.claim_object(session, kind, object_id, self.owner,
                                       self.lease_seconds):
                return False
        keep_alive = KeepAlive(self.db, kind, object_id, self.owner, self.lease_seconds)
        try:
            self.reconcilers[kind](object_id, keep_alive)
        except LeaseLost:
            LOG.info("%s %s was taken over by another engine", kind, object_id)
            return True
        finally:
            next_due = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=self.poll_interval)
            with self.db() as session:
                reconcile_db.release_object(session, kind, object_id, self.owner, started, next_due)
        return True

    def _run(self, kind: str, object_id: str) -> None:
        try:
            self.run_once(kind, object_id)
        except (KingbirdError, SQLAlchemyError) as exc:
            LOG.warning("reconcile of %s %s interrupted: %s", kind, object_id, exc)
        except Exception:
            LOG.exception("reconcile of %s %s crashed", kind, object_id)
        finally:
            with self._lock:
                self._queued.discard((kind, object_id))

    def idle(self) -> bool:
        with self._lock:
            return not self._queued

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


def build_network_worker(conf, db: Callable[[], AbstractContextManager[Session]],
                         clients, owner: str) -> NetworkWorker:
    """The worker with its three reconcilers, from a loaded configuration.

    :param clients: the runtime's ``RegionClients``, reaching each region's Neutron.
    :raises ValueError: invalid ``[networking]`` options.
    """
    # Imported here: the reconcilers pull in the regions layer, which the worker's
    # own tests do without.
    from kingbird.network.l2 import GlobalNetworkReconciler
    from kingbird.network.policy_reconciler import (
        GlobalRouterReconciler,
        SecurityGroupRuleReconciler,
    )
    from kingbird.network.settings import NetworkingSettings

    settings = NetworkingSettings.from_conf(conf.networking)
    neutron = clients.service.network
    return NetworkWorker(
        {"network": GlobalNetworkReconciler(db, neutron, settings),
         "sg_rule": SecurityGroupRuleReconciler(db, neutron),
         "router": GlobalRouterReconciler(db, neutron)},
        db, owner, poll_interval=settings.poll_interval,
        lease_seconds=conf.engine.lease_seconds, workers=conf.engine.job_workers)
