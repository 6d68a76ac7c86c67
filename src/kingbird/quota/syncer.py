"""One project's quota sync: read every region, compute, write what changed, record.

Two policies (``[quota] allocation``):

- ``escrow`` (default): the regional limits always sum to the global limit; see
  ``kingbird.quota.escrow_sync`` for the order of writes that keeps it true at
  every moment. A region that cannot be read keeps its limits, its share stays
  reserved, the others are synced within what is left; the sync is recorded as
  failed for that region.
- ``classic``: the original formula. If any region cannot be read, nothing is
  written for the project: a partial view would hand the missing regions' usage
  out again as headroom (over-grant).

The outcome, with the regions that failed or were skipped and why, is recorded
for the API to show.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field

from oslo_config import cfg
from sqlalchemy.orm import Session

from kingbird.quota import allocation, escrow
from kingbird.quota import region_state_repository as region_state_db
from kingbird.quota import resolve as store
from kingbird.quota import status_repository as status_db
from kingbird.quota.escrow_sync import EscrowSync, half_life
from kingbird.quota.regional import LIMIT_NOT_BELOW_USAGE, RegionQuotas, by_region
from kingbird.regions.fanout import FanOut

LOG = logging.getLogger(__name__)

SUCCESS = "SUCCESS"
FAILURE = "FAILURE"
ESCROW = "escrow"
CLASSIC = "classic"


@dataclass
class SyncOutcome:
    project_id: str
    outcome: str
    failed: dict[str, str] = field(default_factory=dict)
    writes: dict[str, dict[str, int]] = field(default_factory=dict)
    contended: list[str] = field(default_factory=list)

    @property
    def reason(self) -> str | None:
        if not self.failed:
            return None
        return "; ".join(f"{region}: {why}" for region, why in sorted(self.failed.items()))


class QuotaSyncer:
    """Brings one project's regional quotas in line with its global limits."""

    def __init__(self, conf: cfg.ConfigOpts,
                 db: Callable[[], AbstractContextManager[Session]],
                 quotas: RegionQuotas, fanout: FanOut,
                 now: Callable[[], dt.datetime] | None = None):
        self.conf = conf
        self.db = db
        self.quotas = quotas
        self.fanout = fanout
        self.policy = conf.quota.allocation
        # No deadline on a round of calls: each call has its own timeout (the
        # session's, [regions] request_timeout) and retries, and time spent queued
        # behind other projects' calls is not the region's fault. A region that
        # keeps timing out is not called for a while (see regions.fanout).
        self.deadline = None
        self.escrow = EscrowSync(
            quotas,
            escrow.EscrowSettings(floor=conf.quota.escrow_floor,
                                  tolerance=conf.quota.escrow_tolerance,
                                  usage_floor_keys=LIMIT_NOT_BELOW_USAGE),
            half_life(conf.quota.demand_half_life, conf.quota.sync_interval),
            self.deadline, now, conf.quota.contention_threshold)

    def plan(self, project_id: str) -> tuple[SyncOutcome, dict[str, dict[str, int]]]:
        """Classic policy: read the regions and compute the writes, without writing."""
        with self.db() as session:
            global_limits = store.project_limits(session, self.conf, project_id)
        view = self.quotas.read_project(project_id, deadline=self.deadline)
        if view.failed:
            return SyncOutcome(project_id, FAILURE, dict(view.failed)), {}
        desired = allocation.classic(global_limits,
                                     {r: q.usage for r, q in view.regions.items()})
        writes = {region: allocation.changes(view.regions[region].limits, limits)
                  for region, limits in desired.items()}
        return SyncOutcome(project_id, SUCCESS), {r: w for r, w in writes.items() if w}

    def sync(self, project_id: str, owner: str | None = None,
             started_at: dt.datetime | None = None) -> SyncOutcome:
        """Sync with the configured policy and record the outcome.

        ``owner`` and ``started_at`` are passed to the record so that a lease taken
        over by another engine is not released, and a request made during this
        sync stays pending.
        """
        if self.policy == CLASSIC:
            return self._sync_classic(project_id, owner, started_at)
        return self._sync_escrow(project_id, owner, started_at)

    def _sync_classic(self, project_id: str, owner: str | None,
                      started_at: dt.datetime | None) -> SyncOutcome:
        outcome, writes = self.plan(project_id)
        if writes:
            failures = by_region(self.quotas.write_many(project_id, writes,
                                                        deadline=self.deadline))
            outcome.writes = {r: w for r, w in writes.items() if r not in failures}
            if failures:
                outcome.outcome = FAILURE
                outcome.failed.update(failures)
        self.record(outcome, owner, started_at)
        return outcome

    def _sync_escrow(self, project_id: str, owner: str | None,
                     started_at: dt.datetime | None) -> SyncOutcome:
        with self.db() as session:
            global_limits = store.project_limits(session, self.conf, project_id)
            states = region_state_db.get_region_states(session, project_id)

        def still_ours() -> bool:
            # Decreases are safe whoever writes them; increases only from the engine
            # holding the project's lease, confirmed here (by renewing it) right
            # before the last round of writes.
            if owner is None:
                return True
            with self.db() as session:
                return bool(status_db.renew_project_leases(session, [project_id], owner,
                                                           self.conf.engine.lease_seconds))

        result = self.escrow.sync(project_id, global_limits, states, still_ours)
        outcome = SyncOutcome(project_id, FAILURE if result.failed else SUCCESS,
                              dict(result.failed), result.writes, result.contended)
        self.record(outcome, owner, started_at, result.changed_states)
        return outcome

    def record(self, outcome: SyncOutcome, owner: str | None = None,
               started_at: dt.datetime | None = None,
               states: dict[str, region_state_db.RegionState] | None = None) -> None:
        """Record the outcome (and what escrow learnt of the regions) in one transaction."""
        with self.db() as session:
            if states:
                region_state_db.save_region_states(session, outcome.project_id, states)
            status_db.record_sync_result(session, outcome.project_id, outcome.outcome,
                                         sorted(outcome.failed), outcome.reason,
                                         owner=owner, started_at=started_at,
                                         contended=bool(outcome.contended))
        if outcome.outcome == FAILURE:
            LOG.warning("quota sync of %s failed: %s", outcome.project_id, outcome.reason)
        else:
            LOG.info("quota sync of %s done, wrote %s%s", outcome.project_id,
                     outcome.writes or "nothing",
                     f"; contended on {', '.join(outcome.contended)}"
                     if outcome.contended else "")
