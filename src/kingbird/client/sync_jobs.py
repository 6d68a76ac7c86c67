"""Resource synchronisation jobs: ``os-sync``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kingbird.client.http import HttpClient


@dataclass(frozen=True)
class SyncJob:
    """A job as listed (or just created): ``status`` is ``IN_PROGRESS``, ``SUCCESS``
    or ``FAILURE``; ``updated_at`` is ``None`` in the answer to a creation."""

    id: str
    status: str
    created_at: str | None = None
    updated_at: str | None = None


@dataclass(frozen=True)
class SyncEntry:
    """One resource copied to one target region, within a job."""

    id: str
    resource: str
    resource_type: str
    source_region: str
    target_region: str
    status: str
    created_at: str | None = None
    updated_at: str | None = None
    error: str | None = None


def _job(item: Mapping[str, Any]) -> SyncJob:
    return SyncJob(id=item["id"], status=item.get("sync_status") or item.get("status"),
                   created_at=item.get("created_at"), updated_at=item.get("updated_at"))


def _entry(item: Mapping[str, Any]) -> SyncEntry:
    return SyncEntry(id=item.get("id"), resource=item.get("resource"),
                     resource_type=item.get("resource_type"),
                     source_region=item.get("source_region"),
                     target_region=item.get("target_region"),
                     status=item.get("sync_status"), created_at=item.get("created_at"),
                     updated_at=item.get("updated_at"), error=item.get("error"))


class SyncJobManager:
    """The verbs on ``os-sync``. Jobs belong to the caller's project."""

    def __init__(self, http: HttpClient):
        self._http = http

    def create(self, resource_type: str, resources: Sequence[str], source: str,
               targets: Sequence[str], force: bool = False) -> SyncJob:
        """Start copying resources of one type from a region to others.

        :param resource_type: one of ``kingbird.client.vocabulary.SYNC_RESOURCE_TYPES``.
        :param resources: names or ids in the source region.
        :param source: the source region.
        :param targets: the target regions.
        :param force: replace a resource that already exists in a target.
        :returns: the new job, ``IN_PROGRESS``.
        :raises kingbird.client.exceptions.BadRequest: a missing field or an unknown region.
        :raises kingbird.client.exceptions.NotFound: a resource is not in the source region.
        """
        return self._create({"resources": list(resources), "resource_type": resource_type,
                             "source": source, "target": list(targets), "force": force})

    def create_from_template(self, entries: Iterable[Mapping[str, Any]]) -> SyncJob:
        """Start one job syncing several resource types and regions.

        :param entries: mappings with ``resource_type``, ``resources``, ``source``,
            ``target`` and optionally ``force`` (the template's ``Sync`` list).
        :returns: the new job.
        :raises kingbird.client.exceptions.BadRequest: an entry the server refuses.
        """
        return self._create({"Sync": [dict(entry) for entry in entries]})

    def _create(self, resource_set: dict[str, Any]) -> SyncJob:
        body = self._http.post("/os-sync", {"resource_set": resource_set})
        return _job(body["job_status"])

    def list(self, active: bool = False) -> list[SyncJob]:
        """The project's jobs, or only those still running.

        :param active: only jobs in progress.
        """
        jobs = self._http.get_all("/os-sync/active" if active else "/os-sync", "job_set")
        return [_job(item) for item in jobs]

    def get(self, job_id: str) -> list[SyncEntry]:
        """A job's entries: one per (resource, target region).

        :param job_id: the job.
        :raises kingbird.client.exceptions.NotFound: no such job in the caller's project.
        """
        body = self._http.get(f"/os-sync/{job_id}")
        return [_entry(item) for item in body["job_set"]]

    def delete(self, job_id: str) -> None:
        """Forget a finished job.

        :param job_id: the job.
        :raises kingbird.client.exceptions.NotAcceptable: the job is still in progress.
        :raises kingbird.client.exceptions.NotFound: no such job in the caller's project.
        """
        self._http.delete(f"/os-sync/{job_id}")
