"""Repository of global networks: the network, its part in each region, the ports
seen on it with their shadows, its virtual IPs, and the VXLAN ids in use.

A network's VXLAN id is allocated here, in the transaction that creates the
network: the lowest id of the configured ranges that no network holds and no
region refused. The unique constraint on ``segmentation_id`` makes two API
processes racing for the same id fail one transaction, which the caller retries.
A network that failed before any region holds a part of it gives its id back
(``release_segment``: NULL) and takes a free one again when it is next built
(``assign_segment``); a deleted network's id is free once its row is gone.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from kingbird.core import exceptions
from kingbird.db import sql as _sql
from kingbird.network import reconcile_repository as _reconcile
from kingbird.network import segments
from kingbird.network.models import (
    BlockedSegment,
    GlobalNetwork,
    GlobalNetworkPort,
    GlobalNetworkRegion,
    GlobalVip,
)

networks_table: sa.Table = GlobalNetwork.__table__  # type: ignore[assignment]
_regions: sa.Table = GlobalNetworkRegion.__table__  # type: ignore[assignment]
_ports: sa.Table = GlobalNetworkPort.__table__  # type: ignore[assignment]
_vips: sa.Table = GlobalVip.__table__  # type: ignore[assignment]
_blocked: sa.Table = BlockedSegment.__table__  # type: ignore[assignment]


def _dicts(rows) -> list[dict[str, Any]]:
    return [dict(row._mapping) for row in rows]


# -- segments ---------------------------------------------------------------------

def _free_segment(session: Session, ranges: Sequence[tuple[int, int]]) -> int:
    taken = set(session.execute(sa.select(networks_table.c.segmentation_id)
                                .where(networks_table.c.segmentation_id.is_not(None))).scalars())
    taken |= set(session.execute(sa.select(_blocked.c.segmentation_id)).scalars())
    found = segments.first_free(ranges, taken)
    if found is None:
        raise exceptions.ServiceUnavailable(
            "every VXLAN id of [networking] vni_ranges is in use: no global network can be "
            "created until one is deleted or the ranges are widened")
    return found


def block_segment(session: Session, network_id: str, region: str, reason: str,
                  ranges: Sequence[tuple[int, int]]) -> int:
    """Record that ``region`` refused the network's VXLAN id and give the network a
    new one. :returns: the new id."""
    old = session.execute(sa.select(networks_table.c.segmentation_id)
                          .where(networks_table.c.id == network_id)).scalar_one()
    _sql.upsert(session, _blocked, [{"segmentation_id": old, "region": region,
                                     "reason": reason, "created_at": _sql.now_utc(None),
                                     "updated_at": _sql.now_utc(None)}],
                keys=["segmentation_id"], update=[])
    new = _free_segment(session, ranges)
    session.execute(sa.update(networks_table).where(networks_table.c.id == network_id)
                    .values(segmentation_id=new))
    return new


def assign_segment(session: Session, network_id: str,
                   ranges: Sequence[tuple[int, int]]) -> int | None:
    """Give a network that holds no VXLAN id a free one.

    :returns: the network's id (None if the network is gone).
    :raises ServiceUnavailable: no VXLAN id left.
    :raises sqlalchemy.exc.IntegrityError: another transaction took the same id.
    """
    current = session.execute(sa.select(networks_table.c.segmentation_id)
                              .where(networks_table.c.id == network_id)).one_or_none()
    if current is None or current[0] is not None:
        return None if current is None else current[0]
    new = _free_segment(session, ranges)
    session.execute(sa.update(networks_table).where(networks_table.c.id == network_id,
                                                    networks_table.c.segmentation_id.is_(None))
                    .values(segmentation_id=new))
    session.flush()
    return new


def release_segment(session: Session, network_id: str, error: str) -> None:
    """The network failed in every region before any holds a part of it: forget its
    VXLAN id (free for any network) and any ids of its regional parts, and record
    it in ERROR with ``error``."""
    session.execute(sa.update(networks_table).where(networks_table.c.id == network_id)
                    .values(segmentation_id=None))
    session.execute(sa.update(_regions).where(_regions.c.network_id == network_id)
                    .values(neutron_network_id=None, neutron_subnet_id=None))
    set_network_status(session, network_id, "ERROR", error)


# -- networks ---------------------------------------------------------------------

def create_global_network(session: Session, *, project_id: str, name: str, cidr: str,
                          ip_version: int, gateway_regions: Sequence[str], reserved: int,
                          parts: Mapping[str, Mapping[str, Any]],
                          ranges: Sequence[tuple[int, int]],
                          now: dt.datetime | None = None) -> dict[str, Any]:
    """Store a new global network (status BUILD, due at once) with a VXLAN id.

    :param parts: region -> ``{"gateway_ip", "allocation_pools"}``, in pool order.
    :raises ServiceUnavailable: no VXLAN id left.
    :raises sqlalchemy.exc.IntegrityError: another transaction took the same id
        (retry the transaction).
    """
    now = _sql.now_utc(now)
    network = {"id": str(uuid.uuid4()), "project_id": project_id, "name": name,
               "cidr": cidr, "ip_version": ip_version,
               "segmentation_id": _free_segment(session, ranges),
               "gateway_regions": list(gateway_regions), "reserved_addresses": reserved,
               "status": "BUILD", "error": None, "requested_at": now, "due_at": now,
               "created_at": now, "updated_at": now}
    session.execute(sa.insert(networks_table).values(**network))
    session.execute(sa.insert(_regions), [
        {"network_id": network["id"], "region": region, "position": index,
         "gateway_ip": part["gateway_ip"], "allocation_pools": list(part["allocation_pools"]),
         "status": "BUILD", "created_at": now, "updated_at": now}
        for index, (region, part) in enumerate(parts.items())])
    session.flush()
    return get_global_network(session, network["id"])


def get_global_network(session: Session, network_id: str,
                       project_id: str | None = None) -> dict[str, Any] | None:
    """The network with its ``regions`` (in pool order), or None; with
    ``project_id``, only if it belongs to that project."""
    stmt = sa.select(networks_table).where(networks_table.c.id == network_id)
    if project_id is not None:
        stmt = stmt.where(networks_table.c.project_id == project_id)
    row = session.execute(stmt).one_or_none()
    if row is None:
        return None
    network = dict(row._mapping)
    network["regions"] = network_regions(session, network_id)
    return network


def list_global_networks(session: Session, project_id: str) -> list[dict[str, Any]]:
    """The project's networks with their regions, oldest first."""
    ids = session.execute(sa.select(networks_table.c.id)
                          .where(networks_table.c.project_id == project_id)
                          .order_by(networks_table.c.created_at, networks_table.c.id)).scalars()
    return [get_global_network(session, i) for i in list(ids)]


def _project_networks(project_id: str, but: str | None = None) -> sa.Select:
    ids = sa.select(networks_table.c.id).where(networks_table.c.project_id == project_id)
    return ids if but is None else ids.where(networks_table.c.id != but)


def count_global_networks(session: Session, project_id: str) -> int:
    """How many networks the project holds (whatever their status)."""
    return session.execute(sa.select(sa.func.count()).select_from(networks_table)
                           .where(networks_table.c.project_id == project_id)).scalar_one()


def count_project_vips(session: Session, project_id: str) -> int:
    """How many virtual IPs the project holds over all its networks."""
    return session.execute(sa.select(sa.func.count()).select_from(_vips).where(
        _vips.c.network_id.in_(_project_networks(project_id)))).scalar_one()


def service_ports_held(session: Session, project_id: str, but: str | None = None) -> int:
    """Ports Kingbird holds in its service project for the project (shadow ports and
    VIP reservations, over all regions), as last recorded; without those of the
    network ``but``."""
    networks = _project_networks(project_id, but)
    shadows = session.execute(sa.select(_ports.c.shadows)
                              .where(_ports.c.network_id.in_(networks))).scalars()
    held = sum(1 for by_region in shadows for port in (by_region or {}).values() if port)
    reservations = session.execute(sa.select(_vips.c.reservations)
                                   .where(_vips.c.network_id.in_(networks))).scalars()
    return held + sum(1 for by_region in reservations
                      for port in (by_region or {}).values() if port)


def network_regions(session: Session, network_id: str) -> list[dict[str, Any]]:
    return _dicts(session.execute(sa.select(_regions).where(_regions.c.network_id == network_id)
                                  .order_by(_regions.c.position)))


def update_network_region(session: Session, network_id: str, region: str,
                          **values: Any) -> None:
    """Change columns of one regional part (ids of what was created, status, error)."""
    session.execute(sa.update(_regions).where(_regions.c.network_id == network_id,
                                              _regions.c.region == region).values(**values))


def set_network_status(session: Session, network_id: str, status: str,
                       error: str | None) -> None:
    _reconcile.set_status(session, networks_table, network_id, status, error)


def request_network_reconcile(session: Session, network_id: str) -> None:
    _reconcile.request(session, networks_table, network_id)


def mark_network_deleting(session: Session, network_id: str) -> None:
    """Hand the network to the engines for deletion (its regional parts first)."""
    session.execute(sa.update(networks_table).where(networks_table.c.id == network_id)
                    .values(status="DELETING", error=None,
                            requested_at=_sql.now_utc(None)))


def delete_global_network(session: Session, network_id: str) -> None:
    """Forget the network, its regions, ports and VIPs (its VXLAN id becomes free)."""
    for table in (_ports, _vips, _regions):
        session.execute(sa.delete(table).where(table.c.network_id == network_id))
    session.execute(sa.delete(networks_table).where(networks_table.c.id == network_id))


# -- ports ------------------------------------------------------------------------

_PORT_FIELDS = ("mac_address", "fixed_ips", "allowed_address_pairs", "device_owner",
                "shadows", "status", "error")


def network_ports(session: Session, network_id: str) -> list[dict[str, Any]]:
    return _dicts(session.execute(sa.select(_ports).where(_ports.c.network_id == network_id)
                                  .order_by(_ports.c.region, _ports.c.id)))


def attach_port(session: Session, network_id: str, region: str, port_id: str,
                values: Mapping[str, Any]) -> dict[str, Any]:
    """Record a port the user attached explicitly (PENDING until shadowed)."""
    now = _sql.now_utc(None)
    row = {"network_id": network_id, "region": region, "port_id": port_id,
           "source": "attached", "shadows": {}, "status": "PENDING", "error": None,
           "fixed_ips": [], "allowed_address_pairs": [], "created_at": now,
           "updated_at": now, **{k: values[k] for k in values if k in _PORT_FIELDS}}
    _sql.upsert(session, _ports, [row], keys=["network_id", "region", "port_id"],
                update=["source", "updated_at"])
    return next(p for p in network_ports(session, network_id)
                if p["region"] == region and p["port_id"] == port_id)


def save_network_ports(session: Session, network_id: str, seen: Sequence[Mapping[str, Any]],
                       answered: Sequence[str]) -> None:
    """Replace what is known of the ports of the regions that ``answered``.

    :param seen: one mapping per port (``region``, ``port_id`` and the columns of
        ``_PORT_FIELDS``); a port attached before keeps its source.
    :param answered: regions whose listing succeeded: their ports not in ``seen``
        are gone and forgotten; rows of other regions are kept as they were.
    """
    now = _sql.now_utc(None)
    known = {(p["region"], p["port_id"]): p for p in network_ports(session, network_id)}
    fresh = {(p["region"], p["port_id"]) for p in seen}
    for key, row in known.items():
        if key[0] in answered and key not in fresh:
            session.execute(sa.delete(_ports).where(_ports.c.id == row["id"]))
    for port in seen:
        values = {k: port[k] for k in _PORT_FIELDS if k in port}
        key = (port["region"], port["port_id"])
        if key in known:
            session.execute(sa.update(_ports).where(_ports.c.id == known[key]["id"])
                            .values(**values, updated_at=now))
        else:
            session.execute(sa.insert(_ports).values(
                network_id=network_id, region=port["region"], port_id=port["port_id"],
                source="polled", created_at=now, updated_at=now,
                **{"fixed_ips": [], "allowed_address_pairs": [], "shadows": {},
                   "status": "PENDING", **values}))


# -- virtual IPs ------------------------------------------------------------------

def create_vip(session: Session, network_id: str, ip_address: str,
               ports: Sequence[Mapping[str, str]]) -> dict[str, Any]:
    """A new VIP (BUILD); the network is asked to reconcile."""
    now = _sql.now_utc(None)
    vip = {"id": str(uuid.uuid4()), "network_id": network_id, "ip_address": ip_address,
           "ports": [dict(p) for p in ports], "reservations": {}, "status": "BUILD",
           "error": None, "created_at": now, "updated_at": now}
    session.execute(sa.insert(_vips).values(**vip))
    request_network_reconcile(session, network_id)
    return vip


def network_vips(session: Session, network_id: str) -> list[dict[str, Any]]:
    return _dicts(session.execute(sa.select(_vips).where(_vips.c.network_id == network_id)
                                  .order_by(_vips.c.created_at, _vips.c.id)))


def get_vip(session: Session, network_id: str, vip_id: str) -> dict[str, Any] | None:
    row = session.execute(sa.select(_vips).where(_vips.c.id == vip_id,
                                                 _vips.c.network_id == network_id)
                          ).one_or_none()
    return None if row is None else dict(row._mapping)


def update_vip(session: Session, vip_id: str, **values: Any) -> None:
    session.execute(sa.update(_vips).where(_vips.c.id == vip_id)
                    .values(**values, updated_at=_sql.now_utc(None)))


def delete_vip(session: Session, vip_id: str) -> None:
    session.execute(sa.delete(_vips).where(_vips.c.id == vip_id))
