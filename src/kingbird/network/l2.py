"""Reconciles one global network: its network and subnet in each region, the
reservation ports and address pairs of its virtual IPs, and the shadow ports of
every port on it.

Each step reads the region first and changes only what differs, and every id
Kingbird creates is recorded before the next step, so a reconcile interrupted at
any point (engine killed, region down) is completed by the next one without
duplicates. A region that cannot be read is reported and skipped; nothing is
deleted on the strength of a region that did not answer.

A network every region refused to create (over quota there, say) holds nothing
anywhere: it gives its VXLAN id back, stays in ERROR with the reasons, and takes
a free id again at its next attempt. The ports Kingbird creates in its service
project for the network's project (shadows, VIP reservations) are counted against
``[networking] max_service_ports_per_project`` over all its networks.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kingbird.core.exceptions import RegionError, ServiceUnavailable
from kingbird.network import repository as networks_db
from kingbird.network.limits import PortBudget
from kingbird.network.settings import NetworkingSettings
from kingbird.network.shadows import (
    LOCAL_OWNERS,
    SHADOW_OWNER,
    VIP_OWNER,
    Port,
    ShadowPlan,
    plan_shadows,
)
from kingbird.network.vip_reconciler import VipReconciler
from kingbird.regions.networking import RegionNetworking, refusal

LOG = logging.getLogger(__name__)

# Ports Kingbird made on a global network, which go away with it.
KINGBIRD_OWNERS = LOCAL_OWNERS | {SHADOW_OWNER, VIP_OWNER}


def regional_name(network: dict[str, Any]) -> str:
    """The name of the network's part in each region (unique: it carries the id)."""
    return f"{(network['name'] or 'global')[:200]}-{network['id']}"


def _segment_refused(exc: RegionError) -> bool:
    why = refusal(exc)
    return why.type == "TunnelIdInUse" or (why.status == 409 and "tunnel" in why.message.lower())


def _definitive(exc: RegionError) -> bool:
    """The region answered no (4xx), and asking again as such will not change it."""
    return (not exc.transient and exc.status is not None and 400 <= exc.status < 500
            and not _segment_refused(exc))


class SegmentMoved(Exception):
    """A region refused the VXLAN id; the network got a new one and is retried."""


class CreationRefused(Exception):
    """A region that holds no network of ours refused to create one (``error``)."""

    def __init__(self, error: RegionError):
        super().__init__(error.message)
        self.error = error


class GlobalNetworkReconciler:
    """``reconciler(network_id, keep_alive)`` for the engine's ``NetworkWorker``."""

    def __init__(self, db: Callable[[], AbstractContextManager[Session]],
                 neutron: RegionNetworking, settings: NetworkingSettings):
        self.db = db
        self.neutron = neutron
        self.settings = settings
        self.vips = VipReconciler(db, neutron)

    def __call__(self, network_id: str, keep_alive: Callable[[], None]) -> None:
        with self.db() as session:
            network = networks_db.get_global_network(session, network_id)
        if network is None:
            return
        if network["status"] == "DELETING":
            self._delete(network, keep_alive)
            return
        if network["segmentation_id"] is None and not self._assign_segment(network):
            return
        try:
            parts, errors, refused = self._ensure_parts(network, keep_alive)
        except SegmentMoved as moved:
            with self.db() as session:
                networks_db.set_network_status(session, network_id, "BUILD", str(moved))
                networks_db.request_network_reconcile(session, network_id)
            return
        if refused and refused == {r["region"] for r in network["regions"]}:
            self._release_segment(network, errors)
            return
        observed = self._observe(parts, errors)
        keep_alive()
        budget = self._port_budget(network, observed)
        self.vips.reconcile(network, parts, observed, budget)
        keep_alive()
        regions = [r["region"] for r in network["regions"]]
        plan = plan_shadows(regions, observed, self.settings.tunnels)
        port_errors = self._apply(plan, parts, keep_alive, budget)
        self._record(network, observed, plan, port_errors, errors)

    # -- the VXLAN id -------------------------------------------------------------

    def _assign_segment(self, network: dict) -> bool:
        """Give a network that holds no VXLAN id (it failed everywhere before) a free
        one, in ``network`` too; False if there is none now (recorded in ERROR)."""
        try:
            with self.db() as session:
                network["segmentation_id"] = networks_db.assign_segment(
                    session, network["id"], self.settings.vni_ranges)
        except ServiceUnavailable as exc:
            with self.db() as session:
                networks_db.set_network_status(session, network["id"], "ERROR", exc.message)
            return False
        except IntegrityError:  # the API gave the same id to a new network: next time
            with self.db() as session:
                networks_db.request_network_reconcile(session, network["id"])
            return False
        return network["segmentation_id"] is not None

    def _release_segment(self, network: dict, errors: dict[str, str]) -> None:
        """Every region refused to create its part and none holds one: nothing uses
        the VXLAN id, which goes back to the free ones until the next attempt."""
        summary = "; ".join(f"{r}: {e}" for r, e in sorted(errors.items()))
        LOG.info("global network %s failed in every region; VXLAN id %s released",
                 network["id"], network["segmentation_id"])
        with self.db() as session:
            networks_db.release_segment(
                session, network["id"], f"{summary} (no region holds it: its VXLAN id was "
                "released, and a free one is taken at the next attempt)")

    def _port_budget(self, network: dict, observed: dict[str, list[Port]]) -> PortBudget:
        """What the project may still have created in the service project: its
        ports on the other networks as recorded, on this one as observed (as
        recorded in the regions that did not answer)."""
        mine = (SHADOW_OWNER, VIP_OWNER)
        held = sum(1 for ports in observed.values() for p in ports if p.device_owner in mine)
        with self.db() as session:
            held += networks_db.service_ports_held(session, network["project_id"],
                                                   but=network["id"])
            recorded = networks_db.network_ports(session, network["id"])
            vips = networks_db.network_vips(session, network["id"])
        held += sum(1 for row in recorded for region, port in (row["shadows"] or {}).items()
                    if port and region not in observed)
        held += sum(1 for vip in vips for region, port in (vip["reservations"] or {}).items()
                    if port and region not in observed)
        return PortBudget(self.settings.limits, network["project_id"], held)

    # -- regional parts -----------------------------------------------------------

    def _ensure_parts(self, network: dict,
                      keep_alive) -> tuple[dict, dict[str, str], set[str]]:
        """region -> (Neutron network id, subnet id) of every region ready now,
        region -> error of the others, and the regions among them that hold no
        network of ours and refused to create one."""
        parts: dict[str, tuple[str, str]] = {}
        errors: dict[str, str] = {}
        refused: set[str] = set()
        for row in network["regions"]:
            region = row["region"]
            keep_alive()
            try:
                try:
                    parts[region] = self._ensure_part(network, row)
                except CreationRefused as creation:
                    refused.add(region)
                    raise creation.error from None
            except RegionError as exc:
                if _segment_refused(exc):
                    self._move_segment(network, region, exc.message)
                errors[region] = exc.message
                with self.db() as session:
                    networks_db.update_network_region(session, network["id"], region,
                                                      status="ERROR", error=exc.message)
        return parts, errors, refused

    def _ensure_part(self, network: dict, row: dict) -> tuple[str, str]:
        region, project = row["region"], network["project_id"]
        neutron = self.neutron
        net = neutron.get_network(region, row["neutron_network_id"]) \
            if row["neutron_network_id"] else None
        if net is None:
            found = neutron.find_networks(region, project, regional_name(network))
            net = found[0] if found else self._create_network(network, region)
            self._save_part(network["id"], region, neutron_network_id=net["id"],
                            neutron_subnet_id=None)
            row = {**row, "neutron_subnet_id": None}
        seg = net.get("provider:segmentation_id")
        if seg is not None and seg != network["segmentation_id"]:
            raise RegionError(region, f"network {net['id']} is on VXLAN id {seg}, not "
                                      f"{network['segmentation_id']}: delete it to rebuild")
        subnet = neutron.get_subnet(region, row["neutron_subnet_id"]) \
            if row["neutron_subnet_id"] else None
        if subnet is None:
            found = [s for s in neutron.find_subnets(region, net["id"])
                     if s["cidr"] == network["cidr"]]
            subnet = found[0] if found else neutron.create_subnet(
                region, project, net["id"], regional_name(network), network["cidr"],
                network["ip_version"], row["gateway_ip"], row["allocation_pools"])
        drift = {key: row[key] for key in ("allocation_pools", "gateway_ip")
                 if subnet.get(key) != row[key]}
        if drift:  # someone widened the pools (or moved the gateway): set them back
            LOG.info("global network %s: %s of its subnet in %s drifted, resetting",
                     network["id"], ", ".join(sorted(drift)), region)
            neutron.update_subnet(region, subnet["id"], drift)
        self._save_part(network["id"], region, neutron_network_id=net["id"],
                        neutron_subnet_id=subnet["id"], status="ACTIVE", error=None)
        return net["id"], subnet["id"]

    def _create_network(self, network: dict, region: str) -> dict:
        """:raises CreationRefused: the region (holding none) definitively refused."""
        try:
            return self.neutron.create_network(
                region, network["project_id"], regional_name(network),
                network["segmentation_id"], f"Part of Kingbird global network {network['id']}")
        except RegionError as exc:
            if _definitive(exc):
                raise CreationRefused(exc) from exc
            raise

    def _save_part(self, network_id: str, region: str, **values) -> None:
        with self.db() as session:
            networks_db.update_network_region(session, network_id, region, **values)

    def _move_segment(self, network: dict, region: str, reason: str) -> None:
        """Replace a VXLAN id ``region`` refuses, everywhere, as long as no port uses
        the network yet; once ports are attached, moving would cut the regions
        apart, so the refusal is only reported.

        :raises SegmentMoved: the network has a new id and must be reconciled again.
        """
        with self.db() as session:
            created = [(r["region"], r["neutron_network_id"])
                       for r in networks_db.network_regions(session, network["id"])
                       if r["neutron_network_id"]]
        try:
            for other, net_id in created:
                ports = self.neutron.list_ports(other, network_id=net_id)
                if any(p.get("device_owner") not in KINGBIRD_OWNERS for p in ports):
                    return
            for other, net_id in created:
                for port in self.neutron.list_ports(other, network_id=net_id):
                    self.neutron.delete_port(other, port["id"])
                self.neutron.delete_network(other, net_id)
                self._save_part(network["id"], other, neutron_network_id=None,
                                neutron_subnet_id=None, status="BUILD", error=None)
        except RegionError as exc:
            LOG.warning("cannot clear %s before moving its VXLAN id: %s", network["id"],
                        exc.message)
            return
        with self.db() as session:
            new = networks_db.block_segment(session, network["id"], region, reason,
                                            self.settings.vni_ranges)
        old = network["segmentation_id"]
        LOG.info("global network %s: VXLAN id %s is taken in %s, moved to %s",
                 network["id"], old, region, new)
        raise SegmentMoved(f"VXLAN id {old} is in use in {region}; moved to {new}")

    # -- ports ----------------------------------------------------------------------

    def _observe(self, parts: dict, errors: dict[str, str]) -> dict[str, list[Port]]:
        observed: dict[str, list[Port]] = {}
        for region, (net_id, _) in parts.items():
            try:
                observed[region] = [Port.from_neutron(region, p)
                                    for p in self.neutron.list_ports(region, network_id=net_id)]
            except RegionError as exc:
                errors[region] = exc.message
        return observed

    def _apply(self, plan: ShadowPlan, parts: dict, keep_alive,
               budget: PortBudget) -> dict[tuple[str, str], str]:
        """Carry out the plan (creating no more shadows than ``budget`` allows);
        errors by (source region, source port id)."""
        errors: dict[tuple[str, str], str] = {}
        sources: dict[tuple[str, str], tuple[str, str]] = {}  # (region, shadow) -> source
        for key, targets in plan.shadows.items():
            for target, shadow_id in targets.items():
                if shadow_id:
                    sources[(target, shadow_id)] = key
        for region, shadow_id in plan.deletes:
            keep_alive()
            try:
                self.neutron.delete_port(region, shadow_id)
                budget.give_back()
            except RegionError as exc:
                errors[sources.get((region, shadow_id), (region, shadow_id))] = exc.message
        for region, shadow_id, body in plan.updates:
            keep_alive()
            try:
                self.neutron.update_port(region, shadow_id, body)
            except RegionError as exc:
                errors[sources[(region, shadow_id)]] = exc.message
        for region, spec in plan.creates:
            keep_alive()
            key = (spec.source_region, spec.source_id)
            over = budget.take()
            if over is not None:
                errors[key] = f"shadow in {region} {over}"
                continue
            try:
                created = self.neutron.create_port(region, parts[region][0], spec.create_body())
                plan.shadows[key][region] = created["id"]
            except RegionError as exc:
                budget.give_back()
                errors[key] = exc.message
        return errors

    def _record(self, network: dict, observed: dict[str, list[Port]], plan: ShadowPlan,
                port_errors: dict[tuple[str, str], str], region_errors: dict[str, str]) -> None:
        rows = []
        for region, ports in observed.items():
            for port in ports:
                if not port.is_source:
                    continue
                key = (region, port.id)
                shadows = plan.shadows.get(key, {})
                error = plan.conflicts.get(key) or port_errors.get(key)
                status = "ERROR" if error else (
                    "ACTIVE" if all(shadows.values()) else "PENDING")
                rows.append({"region": region, "port_id": port.id, "mac_address": port.mac,
                             "fixed_ips": list(port.ips),
                             "allowed_address_pairs": [{"ip_address": ip, "mac_address": mac}
                                                       for ip, mac in port.pairs],
                             "device_owner": port.device_owner, "shadows": shadows,
                             "status": status, "error": error})
        summary = "; ".join(f"{r}: {e}" for r, e in sorted(region_errors.items())) or None
        with self.db() as session:
            networks_db.save_network_ports(session, network["id"], rows, list(observed))
            current = networks_db.get_global_network(session, network["id"])
            if current is not None and current["status"] != "DELETING":
                networks_db.set_network_status(session, network["id"],
                                               "ERROR" if summary else "ACTIVE", summary)

    # -- deletion -------------------------------------------------------------------

    def _delete(self, network: dict, keep_alive) -> None:
        """Remove Kingbird's ports, then the network (Neutron takes its subnet along)
        from every region; forget the network once every region is clean."""
        errors = {}
        for row in network["regions"]:
            region = row["region"]
            keep_alive()
            try:
                net_id = row["neutron_network_id"]
                if net_id is None:
                    found = self.neutron.find_networks(region, network["project_id"],
                                                       regional_name(network))
                    net_id = found[0]["id"] if found else None
                if net_id is not None:
                    for port in self.neutron.list_ports(region, network_id=net_id):
                        if port.get("device_owner") in KINGBIRD_OWNERS:
                            self.neutron.delete_port(region, port["id"])
                    self.neutron.delete_network(region, net_id)
                self._save_part(network["id"], region, neutron_network_id=None,
                                neutron_subnet_id=None)
            except RegionError as exc:
                errors[region] = exc.message
        with self.db() as session:
            if errors:
                networks_db.set_network_status(session, network["id"], "DELETING", "; ".join(
                    f"{r}: {e}" for r, e in sorted(errors.items())))
            else:
                networks_db.delete_global_network(session, network["id"])
