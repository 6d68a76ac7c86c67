"""One project's escrow sync against the regions: read, plan, decrease, increase.

The order is what keeps the global limit true at every moment, not just at the
end:

1. read every region (one call per service); a region that does not answer keeps
   its limits, and what it may hold (its last known limit, or usage if higher)
   stays reserved to it;
2. plan the regional limits (``kingbird.quota.escrow``) from usage, the limits in
   force and each region's demand;
3. write every decrease, in all regions at once (Nova with ``force``: usage may
   have grown past the new limit since the read, and Nova would refuse it);
4. only if every decrease succeeded: read again the regions that decreased a key
   some other region is to increase (their usage may have grown up to the old
   limit before the decrease landed), cut the increases down to what is left
   under the global limit, and write them.

A write that failed may or may not have been applied: the higher of the two
values is remembered as what the region may hold.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from kingbird.quota import contention, demand, escrow
from kingbird.quota.keys import SERVICE_OF_KEY, keys_of_service
from kingbird.quota.region_state_repository import RegionState
from kingbird.quota.regional import RegionQuotas
from kingbird.quota.view import ProjectView

LOG = logging.getLogger(__name__)


@dataclass
class EscrowResult:
    """What an escrow sync did, and what to remember of each region."""

    failed: dict[str, str] = field(default_factory=dict)
    writes: dict[str, dict[str, int]] = field(default_factory=dict)
    #: keys whose headroom is scarce and moving: sync again after the contended interval
    contended: list[str] = field(default_factory=list)
    states: dict[str, RegionState] = field(default_factory=dict)
    changed_states: dict[str, RegionState] = field(default_factory=dict)


class EscrowSync:
    """Runs the escrow policy for one project at a time; holds no per-project state.

    :param quotas: reads and writes regional quotas.
    :param settings: floor and tolerance of the allocation.
    :param half_life: seconds, of the demand estimate.
    :param deadline: seconds a round of reads or writes may take.
    :param now: the clock (aware UTC datetimes), for tests.
    :param contention_threshold: fraction of a global limit from which a key whose
        usage moved makes the project contended (``kingbird.quota.contention``).
    """

    def __init__(self, quotas: RegionQuotas, settings: escrow.EscrowSettings,
                 half_life: float, deadline: float | None,
                 now: Callable[[], dt.datetime] | None = None,
                 contention_threshold: float = 0.8):
        self.quotas = quotas
        self.settings = settings
        self.half_life = half_life
        self.deadline = deadline
        self.contention_threshold = contention_threshold
        self.now = now or (lambda: dt.datetime.now(dt.UTC))

    def sync(self, project_id: str, global_limits: Mapping[str, int],
             states: Mapping[str, RegionState],
             may_increase: Callable[[], bool] | None = None) -> EscrowResult:
        """Bring a project's regional limits to an escrow allocation of its global
        limits.

        :param global_limits: key → limit in force.
        :param states: what was last seen of each region (``region_quota_state``).
        :param may_increase: asked right before the increases are written; False
            (e.g. the engine's lease on the project was lost) leaves them out.
        """
        view = self.quotas.read_project(project_id, deadline=self.deadline)
        now = self.now()
        result = EscrowResult()
        for region, reason in view.failed.items():
            kept = "its limits stay reserved" if region in states else \
                "never seen before, so its keys are left as they are everywhere"
            result.failed[region] = f"skipped, {kept} ({reason})"
        usage = {r: dict(q.usage) for r, q in view.regions.items()}
        limits = {r: dict(q.limits) for r, q in view.regions.items()}
        rates = self._demand(view, states, now)
        reserved = self._reserved(view, states)

        result.contended = contention.contended_keys(
            global_limits, usage, {r: s["usage"] for r, s in states.items()}, reserved,
            self.contention_threshold, self.settings.per_item_keys)
        desired = escrow.plan(global_limits, usage, limits, rates, reserved, self.settings)
        decreases, increases = escrow.split_phases(limits, desired)
        final = {r: dict(v) for r, v in limits.items()}

        if decreases:
            failures = self.quotas.write_many(project_id, decreases, force=True,
                                              deadline=self.deadline)
            blocked = self._apply(decreases, failures, final, result)
            # A key's global limit holds only if every decrease of it is in force.
            increases = {r: kept for r, per in increases.items()
                         if (kept := {k: v for k, v in per.items() if k not in blocked})}
        if increases:
            increases = self._settle(project_id, global_limits, reserved, usage, limits,
                                     decreases, increases)
        if increases and may_increase is not None and not may_increase():
            for region in increases:
                result.failed.setdefault(region, "increase not written: another engine "
                                         "took the project over")
            increases = {}
        if increases:
            failures = self.quotas.write_many(project_id, increases, deadline=self.deadline)
            self._apply(increases, failures, final, result)

        for region in view.regions:
            state = RegionState(observed_at=now, usage=usage[region], limits=final[region],
                                demand=rates[region])
            result.states[region] = state
            old = states.get(region)
            if old is None or old["usage"] != state["usage"] or old["limits"] != state["limits"]:
                result.changed_states[region] = state
        return result

    def _demand(self, view: ProjectView, states: Mapping[str, RegionState],
                now: dt.datetime) -> dict[str, dict[str, float]]:
        rates: dict[str, dict[str, float]] = {}
        for region, quota in view.regions.items():
            old = states.get(region)
            elapsed = (now - old["observed_at"]).total_seconds() if old else 0.0
            rates[region] = {
                key: demand.observe(old["demand"].get(key, 0.0) if old else 0.0,
                                    old["usage"].get(key) if old else None,
                                    used, quota.limits.get(key, -1), elapsed, self.half_life)
                for key, used in quota.usage.items()
            }
        return rates

    def _reserved(self, view: ProjectView,
                  states: Mapping[str, RegionState]) -> dict[str, float]:
        reserved: dict[str, float] = {}
        for region in view.failed:
            old = states.get(region)
            keys = {k for s in self.quotas.services_of(region) for k in keys_of_service(s)}
            if old is not None:
                keys |= set(old["limits"])
            for key in keys:
                held = escrow.reservation(old["limits"].get(key) if old else None,
                                          old["usage"].get(key) if old else None)
                reserved[key] = reserved.get(key, 0) + held
        return reserved

    def _settle(self, project_id: str, global_limits: Mapping[str, int],
                reserved: Mapping[str, float], usage: Mapping[str, Mapping[str, int]],
                limits: Mapping[str, Mapping[str, int]],
                decreases: Mapping[str, Mapping[str, int]],
                increases: Mapping[str, Mapping[str, int]]) -> dict[str, dict[str, int]]:
        summed = {k for per in increases.values() for k in per} - self.settings.per_item_keys
        to_read = {r: {SERVICE_OF_KEY[k] for k in per if k in summed}
                   for r, per in decreases.items()}
        to_read = {r: s for r, s in to_read.items() if s}
        after = ProjectView(project_id)
        if to_read:
            after = self.quotas.read_project(project_id, deadline=self.deadline,
                                             services=to_read)
        settled: dict[str, dict[str, int]] = {}
        for key in sorted({k for per in increases.values() for k in per}):
            planned = {r: per[key] for r, per in increases.items() if key in per}
            if key not in summed:
                kept = planned
            else:
                holders = [r for r in limits if key in limits[r] and key in usage[r]]
                decreased = {}
                for r, per in decreases.items():
                    if key in per:
                        again = after.regions.get(r)
                        # not read again: assume it filled its old limit before the decrease
                        used = again.usage[key] if again and key in again.usage \
                            else limits[r][key]
                        decreased[r] = (per[key], used)
                kept = escrow.settle_increases(
                    global_limits[key], reserved.get(key, 0),
                    {r: limits[r][key] for r in holders}, {r: usage[r][key] for r in holders},
                    decreased, planned)
            for region, value in kept.items():
                settled.setdefault(region, {})[key] = value
            if kept != planned:
                LOG.info("quota sync of %s: %s increases cut from %s to %s (usage grew "
                         "before the decreases landed)", project_id, key, planned, kept)
        return settled

    @staticmethod
    def _apply(changes: Mapping[str, Mapping[str, int]],
               failures: Mapping[tuple[str, str], str],
               final: dict[str, dict[str, int]], result: EscrowResult) -> set[str]:
        """Account for a round of writes; returns the keys of the writes that failed."""
        failed_keys = set()
        for region, per in changes.items():
            for key, value in per.items():
                reason = failures.get((region, SERVICE_OF_KEY[key]))
                if reason is None:
                    final[region][key] = value
                    result.writes.setdefault(region, {})[key] = value
                    continue
                failed_keys.add(key)
                result.failed.setdefault(region, reason)
                old = final[region].get(key, value)
                final[region][key] = max(old, value, key=escrow.rank)
        return failed_keys

def half_life(configured: float | None, sync_interval: float) -> float:
    """The demand half-life in force: the configured one, else two sync intervals."""
    return configured if configured else 2.0 * sync_interval

