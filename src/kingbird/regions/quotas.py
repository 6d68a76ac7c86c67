"""Reading and writing a project's quotas in the regions.

One call per service per region to read (Nova ``os-quota-sets/{p}/detail``,
Neutron ``quotas/{p}/details``, Cinder ``os-quota-sets/{p}?usage=True``), one
call per service to write, and only the keys that change.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

from kingbird.exceptions import RegionError
from kingbird.quota.keys import COMPUTE, NETWORK, VOLUME, keys_of_service
from kingbird.quota.view import ProjectView, RegionalQuota
from kingbird.regions import calls
from kingbird.regions.directory import RegionDirectory
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


def parse_quota_answer(service: str, body: Mapping) -> RegionalQuota:
    """Limits and usage of a service's answer, restricted to Kingbird's keys."""
    _, _, _, wrapper, used_field = _WIRE[service]
    quotas = body[wrapper]
    limits, usage = {}, {}
    for key in keys_of_service(service):
        entry = quotas.get(key)
        if isinstance(entry, Mapping):
            limits[key] = int(entry["limit"])
            usage[key] = int(entry.get(used_field, 0))
    return RegionalQuota(limits=limits, usage=usage)


def merge(parts: list[RegionalQuota]) -> RegionalQuota:
    limits, usage = {}, {}
    for part in parts:
        limits.update(part.limits)
        usage.update(part.usage)
    return RegionalQuota(limits=limits, usage=usage)


class RegionQuotas:
    """Quota reads and writes against every region of the catalog."""

    def __init__(self, directory: RegionDirectory, fanout: FanOut, retries: int = 2):
        self.directory = directory
        self.fanout = fanout
        self.retries = retries

    def services_of(self, region: str) -> list[str]:
        return [s for s in (COMPUTE, NETWORK, VOLUME)
                if self.directory.has_service(region, _DIRECTORY_NAME[s])]

    def _read_service(self, region: str, service: str, project_id: str,
                      deadline: float | None) -> RegionalQuota:
        proxy_name, read_path, *_ = _WIRE[service]

        def _get():
            proxy = getattr(self.directory.connection(region), proxy_name)
            response = proxy.get(read_path.format(p=project_id), raise_exc=False)
            return calls.checked(response, region, f"read {service} quota")

        body = calls.call(region, f"read {service} quota", _get, self.retries, deadline=deadline)
        try:
            return parse_quota_answer(service, body)
        except (KeyError, TypeError, ValueError) as exc:
            raise RegionError(region, f"unreadable {service} quota answer: {exc!r}") from exc

    def read_project(self, project_id: str, deadline: float | None = None,
                     regions: list[str] | None = None) -> ProjectView:
        """Limits and usage of ``project_id`` in every region (or those given).

        ``deadline`` is in seconds from now; regions that miss it are in ``failed``.
        """
        until = None if deadline is None else time.monotonic() + deadline
        names = regions if regions is not None else self.directory.regions()
        tasks = {(region, service): (lambda r=region, s=service:
                                     self._read_service(r, s, project_id, until))
                 for region in names for service in self.services_of(region)}
        results, failures = self.fanout.run(tasks, until)
        view = ProjectView(project_id=project_id)
        for (region, _service), reason in failures.items():
            view.failed.setdefault(region, reason)
        for region in names:
            if region not in view.failed:
                parts = [q for (r, _), q in results.items() if r == region]
                view.regions[region] = merge(parts)
        return view

    def write(self, region: str, project_id: str, limits: Mapping[str, int],
              force: bool = False) -> None:
        """Set the given limits in ``region``, one call per service concerned.

        ``force`` lets a Nova limit go below current usage (Nova refuses that
        without ``force``; Cinder skips that validation unless asked, Neutron
        does not check).
        """
        for service in (COMPUTE, NETWORK, VOLUME):
            part = {k: v for k, v in limits.items() if k in keys_of_service(service)}
            if not part:
                continue
            proxy_name, _, write_path, wrapper, _ = _WIRE[service]
            body = dict(part)
            if force and service == COMPUTE:
                body["force"] = True
            path = write_path.format(p=project_id)

            what = f"write {service} quota"

            def _put(proxy_name=proxy_name, path=path, body=body, wrapper=wrapper, what=what):
                proxy = getattr(self.directory.connection(region), proxy_name)
                response = proxy.put(path, json={wrapper: body}, raise_exc=False)
                return calls.checked(response, region, what)

            calls.call(region, what, _put, self.retries)
