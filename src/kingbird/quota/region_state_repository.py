"""Repository of what the escrow allocation remembers per project and region: the
usage and limits last seen, and the demand estimate of each quota key.

Read once per project sync, written only for the regions where something changed
(a periodic sync that finds nothing new writes nothing).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TypedDict

import sqlalchemy as sa
from sqlalchemy.orm import Session

from kingbird.db import sql as _sql
from kingbird.quota.models import RegionQuotaState

_state: sa.Table = RegionQuotaState.__table__  # type: ignore[assignment]


class RegionState(TypedDict):
    """One project in one region, as last seen (datetimes are aware UTC)."""

    observed_at: dt.datetime
    usage: dict[str, int]
    limits: dict[str, int]
    demand: dict[str, float]  # units per second at observed_at


def get_region_states(session: Session, project_id: str) -> dict[str, RegionState]:
    """Every region's state of a project.

    :returns: region name → state; empty if the project was never synced by escrow.
    """
    rows = session.execute(
        sa.select(_state.c.region, _state.c.observed_at, _state.c.usage, _state.c.limits,
                  _state.c.demand).where(_state.c.project_id == project_id)
    )
    return {
        row.region: RegionState(observed_at=row.observed_at, usage=dict(row.usage or {}),
                                limits=dict(row.limits or {}), demand=dict(row.demand or {}))
        for row in rows
    }


def save_region_states(session: Session, project_id: str,
                       states: Mapping[str, RegionState]) -> None:
    """Insert or overwrite the state of the regions given; other regions keep theirs."""
    now = _sql.now_utc(None)
    rows = [
        {"project_id": project_id, "region": region,
         "observed_at": _sql.now_utc(state["observed_at"]),
         "usage": dict(state["usage"]), "limits": dict(state["limits"]),
         "demand": dict(state["demand"]), "created_at": now, "updated_at": now}
        for region, state in sorted(states.items())
    ]
    _sql.upsert(session, _state, rows, keys=["project_id", "region"],
                update=["observed_at", "usage", "limits", "demand", "updated_at"])

