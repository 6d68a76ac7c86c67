"""Incremental backup chains and the pruning of restore points (pure).

Cinder makes an incremental backup on top of the latest backup of the same
volume and refuses to delete a backup that others build on. So restore points
form *chains*: a full one, then incremental ones on top of it, all sharing its
id as ``chain_id``. A chain is closed after ``retention`` restore points and the
next one starts a new chain with full backups; a restore point is pruned only
when every restore point of its chain falls outside retention, newest first.
With retention ``R`` a plan therefore keeps between ``R`` and ``2R - 1``
restore points, and always the newest ``R``.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

KEPT_STATUSES = ("AVAILABLE",)


def next_chain(previous: Sequence[Mapping[str, Any]], region: str,
               retention: int) -> str | None:
    """The chain a new restore point of ``region`` continues, or None for a new
    chain of full backups.

    :param previous: the plan's restore points, oldest first.
    """
    usable = [p for p in previous if p["status"] == "AVAILABLE" and p["region"] == region
              and p["method"] == "snapshot-backup" and p["chain_id"]]
    if not usable:
        return None
    chain = usable[-1]["chain_id"]
    length = sum(1 for p in previous if p["chain_id"] == chain and p["status"] == "AVAILABLE")
    return chain if length < retention else None


def kept(points: Sequence[Mapping[str, Any]], retention: int) -> list[str]:
    """Ids of the newest ``retention`` available restore points."""
    available = [p for p in points if p["status"] in KEPT_STATUSES]
    return [p["id"] for p in available[-retention:]] if retention > 0 else []


def prunable(points: Sequence[Mapping[str, Any]], retention: int,
             in_use: Collection[str] = ()) -> list[str]:
    """Ids of the restore points to delete, newest first.

    An available restore point goes when it is outside retention and so is the
    rest of its chain; a failed one goes once it is older than every kept one.
    Restore points ``in_use`` (by a running operation), and their chains, stay.

    :param points: the plan's restore points, oldest first.
    """
    newest = set(kept(points, retention))
    keep = newest | set(in_use)
    protected_chains = {p["chain_id"] for p in points if p["id"] in keep and p["chain_id"]}
    oldest_kept = min((p["sequence"] for p in points if p["id"] in newest), default=None)
    doomed = []
    for point in points:
        if point["id"] in keep or point["status"] == "DELETING":
            continue
        if point["status"] == "AVAILABLE":
            if point["chain_id"] not in protected_chains:
                doomed.append(point)
        elif point["status"] == "ERROR" and oldest_kept is not None \
                and point["sequence"] < oldest_kept:
            doomed.append(point)
    return [p["id"] for p in sorted(doomed, key=lambda p: p["sequence"], reverse=True)]


def blocking_deletion(point: Mapping[str, Any],
                      points: Sequence[Mapping[str, Any]]) -> list[str]:
    """Restore points of the same chain, newer than ``point``, not deleted yet: their
    backups build on ``point``'s, which Cinder cannot delete before theirs."""
    if not point["chain_id"]:
        return []
    return [p["id"] for p in points
            if p["chain_id"] == point["chain_id"] and p["sequence"] > point["sequence"]]


def rpo_seconds(newest_taken_at, failure_at) -> float | None:
    """Age of the newest restore point when the failure happened (the data lost)."""
    if newest_taken_at is None:
        return None
    return max(0.0, (failure_at - newest_taken_at).total_seconds())


def latest_available(points: Sequence[Mapping[str, Any]],
                     region: str | None = None) -> Mapping[str, Any] | None:
    """The newest available restore point (taken in ``region`` when given)."""
    for point in reversed(points):
        if point["status"] == "AVAILABLE" and (region is None or point["region"] == region):
            return point
    return None
