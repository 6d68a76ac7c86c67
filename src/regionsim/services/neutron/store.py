"""Plain in-memory tables: rows by id, and the ids each project owns.

The per-project index makes the two hot reads cheap: a tenant's listing touches
only its own rows, and quota usage is the size of a dict, counted from the real
resources rather than from a counter that could drift.
"""

from __future__ import annotations

import time


def now() -> str:
    """A timestamp in Neutron's format (``2024-05-01T12:00:00Z``)."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


class Table:
    """The rows of one resource kind. Callers hold the region lock."""

    def __init__(self) -> None:
        self.rows: dict[str, dict] = {}
        self._by_project: dict[str, dict[str, None]] = {}

    def __len__(self) -> int:
        return len(self.rows)

    def get(self, row_id: str) -> dict | None:
        return self.rows.get(row_id)

    def add(self, row: dict) -> dict:
        self.rows[row["id"]] = row
        self._by_project.setdefault(row["project_id"], {})[row["id"]] = None
        return row

    def remove(self, row_id: str) -> dict | None:
        row = self.rows.pop(row_id, None)
        if row is not None:
            owned = self._by_project.get(row["project_id"])
            if owned is not None:
                owned.pop(row_id, None)
                if not owned:
                    del self._by_project[row["project_id"]]
        return row

    def count(self, project_id: str) -> int:
        """How many rows ``project_id`` owns: the quota usage of this kind."""
        return len(self._by_project.get(project_id, ()))

    def owned_by(self, project_id: str) -> list[dict]:
        return [self.rows[i] for i in self._by_project.get(project_id, ())]


def touch(row: dict) -> None:
    """Record an update the way Neutron does: new timestamp, next revision."""
    row["updated_at"] = now()
    row["revision_number"] += 1


def base_row(row_id: str, project_id: str) -> dict:
    """Fields every Neutron resource with standard attributes has."""
    stamp = now()
    return {"id": row_id, "project_id": project_id, "tenant_id": project_id,
            "created_at": stamp, "updated_at": stamp, "revision_number": 0,
            "tags": [], "description": ""}
