"""Global limits of projects: ``os-quota-sets``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from kingbird.client.http import HttpClient
from kingbird.client.vocabulary import QUOTA_KEYS


def ordered_limits(values: Mapping[str, Any]) -> dict[str, Any]:
    """``values`` with the known quota keys first, in the user guide's order.

    Keys this client does not know (a newer server's) follow, so nothing is dropped.
    """
    known = {key: values[key] for key in QUOTA_KEYS if key in values}
    return known | {key: value for key, value in values.items() if key not in known}


@dataclass(frozen=True)
class QuotaSet:
    """Limits per quota key. ``project_id`` is ``None`` for the defaults."""

    project_id: str | None
    limits: dict[str, int]


@dataclass(frozen=True)
class RegionQuota:
    """One region's own limits and usage, as read live by ``detail``."""

    limits: dict[str, int]
    usage: dict[str, int]


@dataclass(frozen=True)
class QuotaDetail:
    """A project's global limits with its usage summed over every region that answered.

    ``missing_regions`` maps the regions that did not answer to the reason; their
    usage is not in ``usage``. ``last_sync`` is the server's record of the last quota
    sync of the project, ``None`` if it never ran.
    """

    project_id: str
    limits: dict[str, int]
    usage: dict[str, int]
    remaining: dict[str, int]
    regions: dict[str, RegionQuota] = field(default_factory=dict)
    missing_regions: dict[str, str] = field(default_factory=dict)
    last_sync: dict[str, Any] | None = None

    def rows(self) -> list[tuple[str, int | None, int | None, int | None]]:
        """(key, limit, usage, remaining) per quota key, in the guide's order."""
        return [(key, self.limits.get(key), self.usage.get(key), self.remaining.get(key))
                for key in ordered_limits({**self.usage, **self.limits})]


class QuotaManager:
    """The verbs on ``os-quota-sets``. A ``project_id`` of ``None`` means the caller's."""

    def __init__(self, http: HttpClient):
        self._http = http

    def _project(self, project_id: str | None) -> str:
        return project_id or self._http.own_project()

    def defaults(self) -> QuotaSet:
        """The limits of a project that sets none of its own.

        :returns: a ``QuotaSet`` with ``project_id`` ``None``.
        :raises kingbird.client.exceptions.KingbirdError: as ``HttpClient.request``.
        """
        body = self._http.get("/os-quota-sets/defaults")
        return QuotaSet(None, ordered_limits(body["quota_set"]))

    def get(self, project_id: str | None = None) -> QuotaSet:
        """A project's effective global limits (its own, else its class's, else default).

        :param project_id: the project; the caller's when ``None``.
        :raises kingbird.client.exceptions.KingbirdError: as ``HttpClient.request``.
        """
        project = self._project(project_id)
        body = self._http.get(f"/os-quota-sets/{project}")
        return QuotaSet(project, ordered_limits(body["quota_set"]))

    def update(self, project_id: str, limits: Mapping[str, int]) -> QuotaSet:
        """Set some global limits of a project; regions follow at the next sync.

        :param project_id: the project.
        :param limits: quota key -> new limit (-1 for unlimited).
        :returns: the limits that were set (only those keys).
        :raises kingbird.client.exceptions.BadRequest: an unknown key or a bad value.
        :raises kingbird.client.exceptions.Forbidden: the caller may not set limits.
        """
        body = self._http.put(f"/os-quota-sets/{project_id}", {"quota_set": dict(limits)})
        return QuotaSet(project_id, ordered_limits(body["quota_set"]))

    def delete(self, project_id: str, keys: Iterable[str] | None = None) -> None:
        """Drop a project's own limits (the listed keys, or all); defaults apply again.

        :param project_id: the project.
        :param keys: the quota keys to drop; every key when ``None`` or empty.
        :raises kingbird.client.exceptions.NotFound: the project set none of those limits.
        """
        keys = list(keys or ())
        self._http.delete(f"/os-quota-sets/{project_id}",
                          {"quota_set": keys} if keys else None)

    def detail(self, project_id: str | None = None) -> QuotaDetail:
        """Limits, usage summed over the regions, and what remains, per key.

        :param project_id: the project; the caller's when ``None``.
        :raises kingbird.client.exceptions.ServiceUnavailable: no region answered.
        """
        project = self._project(project_id)
        body = self._http.get(f"/os-quota-sets/{project}/detail")["quota_set"]
        return QuotaDetail(
            project_id=project,
            limits=ordered_limits(body.get("limits", {})),
            usage=ordered_limits(body.get("usage", {})),
            remaining=ordered_limits(body.get("remaining", {})),
            regions={name: RegionQuota(dict(r.get("limits", {})), dict(r.get("usage", {})))
                     for name, r in (body.get("regions") or {}).items()},
            missing_regions=dict(body.get("missing_regions") or {}),
            last_sync=body.get("last_sync"))

    def sync(self, project_id: str) -> None:
        """Ask for the project's quotas to be synced to every region now.

        :param project_id: the project.
        :raises kingbird.client.exceptions.KingbirdError: as ``HttpClient.request``.
        """
        self._http.put(f"/os-quota-sets/{project_id}/sync")
