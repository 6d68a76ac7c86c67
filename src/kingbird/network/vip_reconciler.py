"""The virtual IPs of one global network, reconciled inside the network's reconcile.

In every region: a reservation port holds each VIP (so no region hands it out),
and each port a VIP names gets the VIP in its allowed address pairs, while ports
no longer named lose it. The pairs are changed before the shadow ports are
planned, so the shadows in the other regions carry them in the same reconcile.
A deleted VIP is forgotten once every region has let it go.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from contextlib import AbstractContextManager

from sqlalchemy.orm import Session

from kingbird.core.exceptions import RegionError
from kingbird.network import repository as networks_db
from kingbird.network.limits import PortBudget
from kingbird.network.shadows import VIP_OWNER, Port
from kingbird.network.vips import plan_reservations, reservation_name, wanted_pairs
from kingbird.regions.networking import RegionNetworking

LOG = logging.getLogger(__name__)


class VipReconciler:
    def __init__(self, db: Callable[[], AbstractContextManager[Session]],
                 neutron: RegionNetworking):
        self.db = db
        self.neutron = neutron

    def reconcile(self, network: dict, parts: dict[str, tuple[str, str]],
                  observed: dict[str, list[Port]], budget: PortBudget) -> None:
        """Converge the VIPs in the regions of ``observed``, creating no more
        reservation ports than ``budget`` allows; ports whose pairs change are
        replaced in ``observed`` by what Neutron answered."""
        with self.db() as session:
            vips = networks_db.network_vips(session, network["id"])
        if not vips:
            return
        live = [v for v in vips if v["status"] != "DELETING"]
        managed = {v["ip_address"] for v in vips}
        wanted: dict[tuple[str, str], set[str]] = defaultdict(set)
        holders: dict[tuple[str, str], list[str]] = defaultdict(list)
        for vip in live:
            for ref in vip["ports"]:
                wanted[(ref["region"], ref["port_id"])].add(vip["ip_address"])
                holders[(ref["region"], ref["port_id"])].append(vip["id"])
        errors: dict[str, list[str]] = defaultdict(list)
        reservations: dict[str, dict[str, str]] = defaultdict(dict)
        leftovers: set[str] = set()
        for region, ports in observed.items():
            self._reserve(region, parts[region], ports, live, reservations, errors, leftovers,
                          budget)
            for index, port in enumerate(ports):
                if not port.is_source:
                    continue
                pairs = wanted_pairs(port, wanted.get((region, port.id), set()), managed)
                if pairs is None:
                    continue
                try:
                    answer = self.neutron.update_port(region, port.id,
                                                      {"allowed_address_pairs": pairs})
                    ports[index] = Port.from_neutron(region, answer)
                except RegionError as exc:
                    for vip_id in holders.get((region, port.id), ()):
                        errors[vip_id].append(f"port {port.id}: {exc.message}")
                    leftovers.update(v["id"] for v in vips if v["status"] == "DELETING")
        for vip in live:
            for ref in vip["ports"]:
                ports = observed.get(ref["region"])
                if ports is not None and not any(p.id == ref["port_id"] and p.is_source
                                                 for p in ports):
                    errors[vip["id"]].append(f"{ref['region']}: port {ref['port_id']} is not "
                                             "on this network")
        complete = {r["region"] for r in network["regions"]} <= set(observed)
        self._record(vips, reservations, errors, leftovers, complete)

    def _reserve(self, region: str, part: tuple[str, str], ports: list[Port], live: list[dict],
                 reservations: dict, errors: dict, leftovers: set[str],
                 budget: PortBudget) -> None:
        net_id, subnet_id = part
        plan = plan_reservations({v["id"]: v["ip_address"] for v in live}, ports)
        for vip_id, port_id in plan.held.items():
            reservations[vip_id][region] = port_id
        for port_id in plan.deletes:
            try:
                self.neutron.delete_port(region, port_id)
                budget.give_back()
            except RegionError as exc:
                LOG.warning("cannot delete VIP reservation %s in %s: %s", port_id, region,
                            exc.message)
                leftovers.update(p.device_id for p in ports if p.id == port_id)
        for vip_id, address in plan.creates:
            body = {"name": reservation_name(vip_id), "device_owner": VIP_OWNER,
                    "device_id": vip_id, "port_security_enabled": False,
                    "security_groups": [],
                    "fixed_ips": [{"subnet_id": subnet_id, "ip_address": address}]}
            over = budget.take()
            if over is not None:
                errors[vip_id].append(f"cannot reserve {address} in {region}: reservation "
                                      f"port {over}")
                continue
            try:
                reservations[vip_id][region] = self.neutron.create_port(region, net_id,
                                                                        body)["id"]
            except RegionError as exc:
                budget.give_back()
                errors[vip_id].append(f"cannot reserve {address}: {exc.message}")

    def _record(self, vips: list[dict], reservations: dict, errors: dict,
                leftovers: set[str], complete: bool) -> None:
        with self.db() as session:
            for vip in vips:
                if vip["status"] == "DELETING":
                    if complete and vip["id"] not in leftovers:
                        networks_db.delete_vip(session, vip["id"])
                    continue
                problems = errors.get(vip["id"])
                status = "ERROR" if problems else ("ACTIVE" if complete else "BUILD")
                networks_db.update_vip(session, vip["id"], status=status,
                                       reservations=dict(reservations.get(vip["id"], {})),
                                       error="; ".join(problems) if problems else None)
