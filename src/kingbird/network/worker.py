"""Runs the reconcilers of cross-region networking on a bounded pool.

Each tick asks the database which objects are due (a change through the API, or
their periodic reconcile: every ``[networking] poll_interval``), claims as many
as there are free workers and runs one reconcile per object, under a lease in
the database so that several engines never work on the same object at once.
The worker is a ``kingbird.engine.leased_work.LeasedWorker``: the leases of the
running reconciles are renewed in the background, and a reconcile checks its
lease between steps (the ``keep_alive`` it is given); one whose lease was taken
over stops at the next step, and the object is reconciled again by whichever
engine holds it then — every step is idempotent, so doing part of the work twice
is harmless. A reconciler records the object's status and errors itself; the
worker gives the lease back and schedules the next periodic reconcile.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Callable, Hashable, Mapping
from contextlib import AbstractContextManager

from sqlalchemy.orm import Session

from kingbird.engine.leased_work import LeasedWork, LeasedWorker
from kingbird.network import reconcile_leases as reconcile_db

LOG = logging.getLogger(__name__)

#: ``reconciler(object_id, keep_alive)``: converges one object, calling
#: ``keep_alive()`` between steps (it raises ``LeaseLost`` once the lease is lost).
Reconciler = Callable[[str, Callable[[], None]], None]


class Reconcile(LeasedWork):
    """One claimed object, reconciled by the reconciler of its kind."""

    def __init__(self, worker: NetworkWorker, kind: str, object_id: str):
        super().__init__((kind, object_id), f"reconcile of {kind} {object_id}")
        self.worker = worker
        self.kind = kind
        self.object_id = object_id
        self.started = dt.datetime.now(dt.UTC)

    def run(self) -> None:
        self.worker.reconcilers[self.kind](self.object_id, self.lease.check)

    def finish(self) -> None:
        next_due = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=self.worker.poll_interval)
        with self.worker.db() as session:
            reconcile_db.release_object(session, self.kind, self.object_id, self.worker.owner,
                                        self.started, next_due)

    def fail(self, reason: str) -> None:
        LOG.warning("%s interrupted: %s", self.name, reason)
        self.finish()


class NetworkWorker(LeasedWorker):
    """The engine's worker for global networks, security group rules and routers.

    :param reconcilers: kind (``network``, ``sg_rule``, ``router``) -> a callable
        reconciling one object of that kind.
    """

    def __init__(self, reconcilers: Mapping[str, Reconciler],
                 db: Callable[[], AbstractContextManager[Session]], owner: str, *,
                 poll_interval: float, lease_seconds: float, workers: int):
        super().__init__(owner, workers=workers, lease_seconds=lease_seconds, name="network")
        self.reconcilers = dict(reconcilers)
        self.db = db
        self.poll_interval = poll_interval

    def claim(self, limit: int) -> list[LeasedWork]:
        claimed: list[LeasedWork] = []
        for kind in self.reconcilers:
            with self.db() as session:
                due = reconcile_db.due_objects(session, kind)
            for object_id in due:
                if len(claimed) >= limit:
                    return claimed
                with self.db() as session:
                    if reconcile_db.claim_object(session, kind, object_id, self.owner,
                                                 self.lease_seconds):
                        claimed.append(Reconcile(self, kind, object_id))
        return claimed

    def renew(self, keys: list[Hashable]) -> list[tuple[str, str]]:
        by_kind: dict[str, list[str]] = defaultdict(list)
        for kind, object_id in keys:  # type: ignore[misc]
            by_kind[kind].append(object_id)
        with self.db() as session:
            return [(kind, object_id) for kind, ids in by_kind.items()
                    for object_id in reconcile_db.renew_object_leases(
                        session, kind, ids, self.owner, self.lease_seconds)]

    def run_once(self, kind: str, object_id: str) -> bool:
        """Reconcile one object now, in this thread; False if another engine holds it."""
        with self.db() as session:
            if not reconcile_db.claim_object(session, kind, object_id, self.owner,
                                             self.lease_seconds):
                return False
        self.carry_out(Reconcile(self, kind, object_id))
        return True


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
