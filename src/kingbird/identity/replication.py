"""Replication of the identity database in the star topology, as PostgreSQL sees it.

Two views, both read-only queries on PostgreSQL's statistics:

- from the master site's primary (``pg_stat_replication``): each standby,
  named by its ``application_name`` (its region), with how far its replay is
  behind in bytes and in time;
- from each region's standby (``pg_stat_wal_receiver`` and the replay
  functions): whether it is still streaming and how long ago it replayed a
  transaction. This view survives the loss of the master site.

Every database is asked in parallel with a connect and statement timeout, so
an unreachable site costs the caller ``timeout`` seconds at most.
"""

from __future__ import annotations

import concurrent.futures
from typing import Any

import psycopg2
from sqlalchemy.engine import make_url

_MASTER_QUERY = """
SELECT application_name, state, sync_state,
       pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::bigint AS lag_bytes,
       COALESCE(EXTRACT(EPOCH FROM replay_lag), 0)::float AS replay_lag_seconds
FROM pg_stat_replication
"""

_REPLICA_QUERY = """
SELECT pg_is_in_recovery(),
       (SELECT status FROM pg_stat_wal_receiver LIMIT 1),
       EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())::float,
       pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn())::bigint
"""


def _connect(url: str, timeout: float):
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        raise ValueError(f"replication is reported for PostgreSQL only, not "
                         f"{parsed.get_backend_name()}")
    connection = psycopg2.connect(
        host=parsed.host or "127.0.0.1", port=parsed.port or 5432,
        user=parsed.username, password=parsed.password, dbname=parsed.database or "postgres",
        connect_timeout=max(1, int(timeout + 0.999)),
        options=f"-c statement_timeout={int(timeout * 1000)}")
    connection.autocommit = True
    return connection


def _describe_error(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def master_view(url: str, timeout: float = 3.0) -> dict[str, Any]:
    """The standbys as the primary sees them.

    :returns: ``{"reachable": True, "standbys": {application_name: {...}}}``, or
        ``{"reachable": False, "error": ...}``.
    """
    try:
        connection = _connect(url, timeout)
        try:
            with connection.cursor() as cursor:
                cursor.execute(_MASTER_QUERY)
                rows = cursor.fetchall()
        finally:
            connection.close()
    except (psycopg2.Error, ValueError) as exc:
        return {"reachable": False, "error": _describe_error(exc)}
    return {"reachable": True, "standbys": {
        name: {"state": state, "sync_state": sync_state, "lag_bytes": lag_bytes,
               "replay_lag_seconds": round(lag_seconds or 0.0, 6)}
        for name, state, sync_state, lag_bytes, lag_seconds in rows}}


def replica_view(url: str, timeout: float = 3.0) -> dict[str, Any]:
    """A standby's own view: in recovery, WAL receiver status, last replay."""
    try:
        connection = _connect(url, timeout)
        try:
            with connection.cursor() as cursor:
                cursor.execute(_REPLICA_QUERY)
                in_recovery, receiver, replay_age, unreplayed = cursor.fetchone()
        finally:
            connection.close()
    except (psycopg2.Error, ValueError) as exc:
        return {"reachable": False, "error": _describe_error(exc)}
    return {"reachable": True, "read_only_replica": bool(in_recovery),
            "receiver": receiver or "disconnected",
            "seconds_since_last_replay": (None if replay_age is None
                                          else round(replay_age, 3)),
            "received_not_replayed_bytes": unreplayed}


def regions_view(master_region: str | None, master_url: str | None,
                 replica_urls: dict[str, str], timeout: float = 3.0) -> dict[str, Any]:
    """Replication per region: both views combined, asked in parallel.

    :returns: region -> ``{"role", "lag_bytes", "replay_lag_seconds",
        "streaming", "primary_view", "replica_view"}``; lag is None when the
        primary cannot be asked.
    """
    jobs: dict[tuple[str, str], Any] = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=1 + len(replica_urls)) as pool:
        if master_url:
            jobs[("master", "")] = pool.submit(master_view, master_url, timeout)
        for region, url in replica_urls.items():
            jobs[("replica", region)] = pool.submit(replica_view, url, timeout)
        done = {key: future.result() for key, future in jobs.items()}
    master = done.get(("master", ""))
    result: dict[str, Any] = {}
    if master_region:
        result[master_region] = {"role": "master", "lag_bytes": 0, "replay_lag_seconds": 0.0,
                                 "database": None if master is None else (
                                     "reachable" if master["reachable"] else master["error"])}
    for region in sorted(replica_urls):
        replica = done[("replica", region)]
        standby = (master or {}).get("standbys", {}).get(region)
        streaming = standby is not None and standby["state"] == "streaming"
        if not streaming and replica.get("reachable"):
            streaming = replica["receiver"] == "streaming"
        result[region] = {
            "role": "replica",
            "streaming": streaming,
            "lag_bytes": None if standby is None else standby["lag_bytes"],
            "replay_lag_seconds": None if standby is None else standby["replay_lag_seconds"],
            "primary_view": (standby if standby is not None else
                             {"error": "not connected to the primary" if master and
                              master["reachable"] else "primary not reachable"}),
            "replica_view": replica,
        }
    return result
