"""One project's quota sync: read every region, compute, write what changed.

If any region cannot be read, nothing is written for the project: a partial view
would hand the missing regions' usage out again as headroom (over-grant). The
outcome, with the regions that failed and why, is recorded for the API to show.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field

from oslo_config import cfg
from sqlalchemy.orm import Session

from kingbird.db import api as db_api
from kingbird.quota import allocation, store
from kingbird.regions.fanout import FanOut
from kingbird.regions.quotas import RegionQuotas

LOG = logging.getLogger(__name__)

SUCCESS = "SUCCESS"
FAILURE = "FAILURE"


@dataclass
class SyncOutcome:
    project_id: str
    outcome: str
    failed: dict[str, str] = field(default_factory=dict)
    writes: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def reason(self) -> str | None:
        if not self.failed:
            return None
        return "; ".join(f"{region}: {why}" for region, why in sorted(self.failed.items()))


class QuotaSyncer:
    """Brings one project's regional quotas in line with its global limits."""

    def __init__(self, conf: cfg.ConfigOpts,
                 db: Callable[[], AbstractContextManager[Session]],
                 quotas: RegionQuotas, fanout: FanOut):
        self.conf = conf
        self.db = db
        self.quotas = quotas
        self.fanout = fanout

    def plan(self, project_id: str) -> tuple[SyncOutcome, dict[str, dict[str, int]]]:
        """Read the regions and compute the writes, without writing."""
        with self.db() as session:
            global_limits = store.project_limits(session, self.conf, project_id)
        view = self.quotas.read_project(project_id)
        if view.failed:
            return SyncOutcome(project_id, FAILURE, dict(view.failed)), {}
        desired = allocation.classic(global_limits,
                                     {r: q.usage for r, q in view.regions.items()})
        writes = {region: allocation.changes(view.regions[region].limits, limits)
                  for region, limits in desired.items()}
        return SyncOutcome(project_id, SUCCESS), {r: w for r, w in writes.items() if w}

    def sync(self, project_id: str, owner: str | None = None,
             started_at: dt.datetime | None = None) -> SyncOutcome:
        """Plan, write in parallel across regions, record the outcome.

        ``owner`` and ``started_at`` are passed to the record so that a lease taken
        over by another engine is not released, and a request made during this
        sync stays pending.
        """
        outcome, writes = self.plan(project_id)
        if writes:
            tasks = {region: (lambda r=region, w=limits: self.quotas.write(r, project_id, w))
                     for region, limits in writes.items()}
            _, failures = self.fanout.run(tasks)
            outcome.writes = {r: w for r, w in writes.items() if r not in failures}
            if failures:
                outcome.outcome = FAILURE
                outcome.failed.update(failures)
        self.record(outcome, owner, started_at)
        return outcome

    def record(self, outcome: SyncOutcome, owner: str | None = None,
               started_at: dt.datetime | None = None) -> None:
        with self.db() as session:
            db_api.record_sync_result(session, outcome.project_id, outcome.outcome,
                                      sorted(outcome.failed), outcome.reason,
                                      owner=owner, started_at=started_at)
        if outcome.outcome == FAILURE:
            LOG.warning("quota sync of %s failed: %s", outcome.project_id, outcome.reason)
        else:
            LOG.info("quota sync of %s done, wrote %s", outcome.project_id,
                     outcome.writes or "nothing")

