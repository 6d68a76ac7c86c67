"""Reading and writing a project's quotas in the regions.

One call per service per region to read (Nova ``os-quota-sets/{p}/detail``,
Neutron ``quotas/{p}/details``, Cinder ``os-quota-sets/{p}?usage=True``), one
call per service to write, and only the keys that change.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping

from kingbird.core.exceptions import RegionError
from kingbird.quota.keys import COMPUTE, NETWORK, VOLUME, keys_of_service
from kingbird.quota.view import ProjectView, RegionalQuota
from kingbird.regions.clients import RegionClients
from kingbird.regions.fanout import FanOut

# Kingbird service → (openstacksdk proxy attribute, read path, write path, body key,
# field holding usage in the read answer).
_WIRE = {
    COMPUTE: ("compute", "/os-quota-sets/{p}/detail", "/os-quota-sets/{p}", "quota_set", "in_use"),
    NETWORK: ("network", "/quotas/{p}/details", "/quotas/{p}", "quota", "used"),
    VOLUME: ("block_storage", "/os-quota-sets/{p}?usage=True", "/os-quota-sets/{p}", "quota_set",
             "in_use"),
}
_DIRECTORY_NAME = {COMPUTE: "compute", NETWORK: "network", VOLUME: "volume"}

# Keys whose limit a region refuses to set below usage, with no way to force it:
# Cinder checks every new limit against in_use + reserved (its old skip_validation
# flag is gone). Nova accepts ``force``; Neutron checks only when asked.
LIMIT_NOT_BELOW_USAGE = frozenset(keys_of_service(VOLUME))


def parse_quota_answer(service: str, body: Mapping) -> RegionalQuota:
    """Limits and usage of a service's answer, restricted to Kingbird's keys."""
    _, _, _, wrapper, used_field = _WIRE[service]
    quotas = body[wrapper]
    limits, usage = {}, {}
    for key in keys_of_service(service):
        entry = quotas.get(key)
        if isinstance(entry, Mapping):
            limits[key] = int(entry["limit"])
            # reserved: being created right now, it counts against the limit too
            usage[key] = int(entry.get(used_field, 0)) + int(entry.get("reserved") or 0)
    return RegionalQuota(limits=limits, usage=usage)


def merge(parts: list[RegionalQuota]) -> RegionalQuota:
    limits, usage = {}, {}
    for part in parts:
        limits.update(part.limits)
        usage.update(part.usage)
    return RegionalQuota(limits=limits, usage=usage)


class RegionQuotas:
    """Quota reads and writes against every region of the catalog."""

    def __init__(self, clients: RegionClients, fanout: FanOut):
        self.directory = clients.directory
        self.rest = clients.rest
        self.fanout = fanout

    def services_of(self, region: str) -> list[str]:
        return [s for s in (COMPUTE, NETWORK, VOLUME)
                if self.directory.has_service(region, _DIRECTORY_NAME[s])]

    def _read_service(self, region: str, service: str, project_id: str,
                      deadline: float | None) -> RegionalQuota:
        proxy_name, read_path, *_ = _WIRE[service]
        body = self.rest.call(region, proxy_name, "GET", read_path.format(p=project_id),
                              f"read {service} quota", deadline=deadline)
        try:
            return parse_quota_answer(service, body)
        except (KeyError, TypeError, ValueError) as exc:
            raise RegionError(region, f"unreadable {service} quota answer: {exc!r}") from exc

    def read_project(self, project_id: str, deadline: float | None = None,
                     regions: list[str] | None = None,
                     services: Mapping[str, Iterable[str]] | None = None) -> ProjectView:
        """Limits and usage of ``project_id`` in every region (or those given).

        One call per service per region, all in parallel (one lane per region).

        :param deadline: seconds from now; regions that miss it are in ``failed``.
        :param regions: the regions to read; every region of the catalog when None.
        :param services: region → the services to read there (the keys of the
            others are then absent); every service the region has when None.
        """
        until = None if deadline is None else time.monotonic() + deadline
        if services is not None:
            names = list(services)
            wanted = {r: [s for s in self.services_of(r) if s in set(services[r])] for r in names}
        else:
            names = regions if regions is not None else self.directory.regions()
            wanted = {r: self.services_of(r) for r in names}
        tasks = {(region, service): (lambda r=region, s=service:
                                     self._read_service(r, s, project_id, until))
                 for region in names for service in wanted[region]}
        results, failures = self.fanout.run(tasks, until, lane=_region_of)
        view = ProjectView(project_id=project_id)
        for (region, _service), reason in sorted(failures.items()):
            view.failed.setdefault(region, reason)
        for region in names:
            if region not in view.failed:
                parts = [q for (r, _), q in results.items() if r == region]
                view.regions[region] = merge(parts)
        return view

    def _write_service(self, region: str, service: str, project_id: str,
                       part: Mapping[str, int], force: bool, deadline: float | None) -> None:
        proxy_name, _, write_path, wrapper, _ = _WIRE[service]
        body = dict(part)
        if force and service == COMPUTE:
            body["force"] = True
        self.rest.call(region, proxy_name, "PUT", write_path.format(p=project_id),
                       f"write {service} quota", body={wrapper: body}, deadline=deadline)

    def write(self, region: str, project_id: str, limits: Mapping[str, int],
              force: bool = False) -> None:
        """Set the given limits in ``region``, one call per service concerned.

        ``force`` lets a Nova limit go below current usage (Nova refuses that
        without ``force``). Current Cinder always refuses a limit below usage
        and Neutron never checks: callers never ask Cinder for less than usage.

        :raises RegionError: a call failed (the services before it were written).
        """
        for service in (COMPUTE, NETWORK, VOLUME):
            part = {k: v for k, v in limits.items() if k in keys_of_service(service)}
            if part:
                self._write_service(region, service, project_id, part, force, None)

    def write_many(self, project_id: str, changes: Mapping[str, Mapping[str, int]],
                   force: bool = False, deadline: float | None = None
                   ) -> dict[tuple[str, str], str]:
        """Set limits in several regions at once, one call per region and service,
        all in parallel.

        :param changes: region → key → new limit.
        :param force: as in ``write``.
        :param deadline: seconds from now.
        :returns: (region, service) → why that write failed; the calls absent
            succeeded. A failed write may or may not have been applied.
        """
        until = None if deadline is None else time.monotonic() + deadline
        tasks = {}
        for region, limits in changes.items():
            for service in (COMPUTE, NETWORK, VOLUME):
                part = {k: v for k, v in limits.items() if k in keys_of_service(service)}
                if part:
                    tasks[(region, service)] = (
                        lambda r=region, s=service, p=part:
                        self._write_service(r, s, project_id, p, force, until))
        _, failures = self.fanout.run(tasks, until, lane=_region_of)
        return failures


def by_region(failures: Mapping[tuple[str, str], str]) -> dict[str, str]:
    """Failures of ``write_many`` per region (the first service's reason)."""
    failed: dict[str, str] = {}
    for (region, _service), reason in sorted(failures.items()):
        failed.setdefault(region, reason)
    return failed


def _region_of(key: tuple[str, str]) -> str:
    return key[0]
