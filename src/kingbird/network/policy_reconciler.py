"""Reconciles cross-region security group rules and global routers (the L3 option).

A security group rule whose remote group lives in another region is kept equal
to one Neutron rule per member address of that group; a global router is a
router per region with an interface on the region's subnet and one on the
transit network, and routes to the other regions' subnets. Both follow the
engine's rules: read first, change only what differs, record each created id
before the next step.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager

from sqlalchemy.orm import Session

from kingbird.core.exceptions import RegionError
from kingbird.network import policy_repository as net_policies_db
from kingbird.network import repository as networks_db
from kingbird.network import routes, secgroups
from kingbird.regions.networking import RegionNetworking

DB = Callable[[], AbstractContextManager[Session]]


class SecurityGroupRuleReconciler:
    """``reconciler(rule_id, keep_alive)`` for the engine's ``NetworkWorker``."""

    def __init__(self, db: DB, neutron: RegionNetworking):
        self.db = db
        self.neutron = neutron

    def __call__(self, rule_id: str, keep_alive: Callable[[], None]) -> None:
        with self.db() as session:
            rule = net_policies_db.get_sg_rule(session, rule_id)
        if rule is None:
            return
        deleting = rule["status"] == "DELETING"
        try:
            error = self._converge(rule, deleting, keep_alive)
        except RegionError as exc:
            with self.db() as session:
                net_policies_db.update_sg_rule(session, rule_id, status="DELETING" if deleting
                                               else "ERROR", error=exc.message)
            return
        with self.db() as session:
            if deleting and error is None:
                net_policies_db.delete_sg_rule(session, rule_id)
            elif not deleting:
                net_policies_db.update_sg_rule(session, rule_id,
                                               status="ERROR" if error else "ACTIVE", error=error)

    def _converge(self, rule: dict, deleting: bool, keep_alive) -> str | None:
        region, group_id = rule["region"], rule["security_group_id"]
        if self.neutron.get_security_group(region, group_id) is None:
            return None if deleting else f"security group {group_id} no longer exists in {region}"
        marker = secgroups.marker(rule["id"])
        existing: dict[str, list[str]] = {}
        for found in self.neutron.group_rules(region, group_id):
            prefix = secgroups.normalise_prefix(found.get("remote_ip_prefix"))
            if found.get("description") == marker and prefix is not None:
                existing.setdefault(prefix, []).append(found["id"])
        error = None
        wanted: set[str] = set()
        if not deleting:
            remote_region, remote_id = rule["remote_region"], rule["remote_group_id"]
            if self.neutron.get_security_group(remote_region, remote_id) is None:
                error = f"remote security group {remote_id} no longer exists in {remote_region}"
            else:
                members = self.neutron.list_ports(remote_region, security_groups=remote_id)
                wanted = secgroups.member_prefixes(members, rule["ethertype"])
        keep_alive()
        create, delete = secgroups.plan_rules(wanted, existing)
        for neutron_rule_id in delete:
            self.neutron.delete_rule(region, neutron_rule_id)
        for prefix in create:
            self.neutron.create_rule(region, rule["project_id"], group_id,
                                     secgroups.rule_body(rule, prefix, rule["id"]))
        if not deleting:
            with self.db() as session:
                net_policies_db.update_sg_rule(session, rule["id"], expanded=sorted(wanted))
        return error


def router_name(router: dict) -> str:
    return f"{(router['name'] or 'global-router')[:200]}-{router['id']}"


def transit_port_name(router: dict) -> str:
    return f"transit-{router['id']}"


class GlobalRouterReconciler:
    """``reconciler(router_id, keep_alive)`` for the engine's ``NetworkWorker``."""

    def __init__(self, db: DB, neutron: RegionNetworking):
        self.db = db
        self.neutron = neutron

    def __call__(self, router_id: str, keep_alive: Callable[[], None]) -> None:
        with self.db() as session:
            router = net_policies_db.get_router(session, router_id)
            transit = self._transit(session, router) if router else {}
        if router is None:
            return
        if router["status"] == "DELETING":
            self._delete(router, keep_alive)
            return
        state = {region: dict(value) for region, value in router["state"].items()}
        errors: dict[str, str] = {}
        sites: dict[str, routes.Site] = {}
        for region, subnet_id in sorted(router["subnets"].items()):
            keep_alive()
            try:
                if region not in transit:
                    raise RegionError(region, "the transit network has no part here yet")
                sites[region] = self._ensure_site(router, region, subnet_id, transit[region],
                                                  state)
            except RegionError as exc:
                errors[region] = exc.message
            self._save(router["id"], state)
        if not errors:
            for region, wanted in routes.plan_routes(sites).items():
                keep_alive()
                try:
                    self._set_routes(region, state[region], wanted)
                except RegionError as exc:
                    errors[region] = exc.message
            self._save(router["id"], state)
        summary = "; ".join(f"{r}: {e}" for r, e in sorted(errors.items())) or None
        with self.db() as session:
            net_policies_db.update_router(session, router["id"],
                                          status="ERROR" if summary else "ACTIVE", error=summary)

    def _transit(self, session, router: dict) -> dict[str, str]:
        if router["transit_network_id"] is None:
            return dict(router["transit_networks"])
        network = networks_db.get_global_network(session, router["transit_network_id"])
        if network is None:
            return {}
        return {r["region"]: r["neutron_network_id"] for r in network["regions"]
                if r["neutron_network_id"]}

    def _save(self, router_id: str, state: dict) -> None:
        with self.db() as session:
            net_policies_db.update_router(session, router_id, state=state)

    def _ensure_site(self, router: dict, region: str, subnet_id: str, transit_net: str,
                     full_state: dict) -> routes.Site:
        """The region's router, its two interfaces, and its transit address; each id
        is recorded in ``full_state`` (and saved) as soon as it exists."""
        neutron = self.neutron
        state = full_state.setdefault(region, {})
        subnet = neutron.get_subnet(region, subnet_id)
        if subnet is None:
            raise RegionError(region, f"subnet {subnet_id} no longer exists")
        state["cidr"] = subnet["cidr"]
        found = neutron.get_router(region, state["router_id"]) if state.get("router_id") else None
        if found is None:
            named = neutron.find_routers(region, router["project_id"], router_name(router))
            found = named[0] if named else neutron.create_router(
                region, router["project_id"], router_name(router),
                f"Part of Kingbird global router {router['id']}")
            state["router_id"] = found["id"]
            self._save(router["id"], full_state)
        attached = neutron.list_ports(region, device_id=found["id"])
        if not any(f.get("subnet_id") == subnet_id for p in attached for f in p["fixed_ips"]):
            neutron.add_interface(region, found["id"], subnet_id=subnet_id)
        port = next((p for p in attached if p["network_id"] == transit_net), None)
        if port is None:
            spare = neutron.list_ports(region, network_id=transit_net,
                                       name=transit_port_name(router))
            port = spare[0] if spare else neutron.create_port(region, transit_net, {
                "name": transit_port_name(router), "project_id": router["project_id"]})
            state["transit_port_id"] = port["id"]
            self._save(router["id"], full_state)
            neutron.add_interface(region, found["id"], port_id=port["id"])
        state["transit_port_id"] = port["id"]
        state["transit_ip"] = port["fixed_ips"][0]["ip_address"]
        return routes.Site(subnet["cidr"], state["transit_ip"])

    def _set_routes(self, region: str, state: dict, wanted: list[dict]) -> None:
        current = self.neutron.get_router(region, state["router_id"])
        if current is None:
            raise RegionError(region, f"router {state['router_id']} disappeared")
        merged = routes.merge_routes(current.get("routes") or [], wanted,
                                     state.get("routes", []))
        if merged is not None:
            self.neutron.set_routes(region, state["router_id"], merged)
        state["routes"] = wanted

    def _delete(self, router: dict, keep_alive) -> None:
        errors = {}
        state = {region: dict(value) for region, value in router["state"].items()}
        for region, site in sorted(state.items()):
            keep_alive()
            try:
                self._delete_site(router, region, site)
                state[region] = {}
            except RegionError as exc:
                errors[region] = exc.message
        with self.db() as session:
            if errors:
                net_policies_db.update_router(session, router["id"], state=state, error="; ".join(
                    f"{r}: {e}" for r, e in sorted(errors.items())))
            else:
                net_policies_db.delete_router(session, router["id"])

    def _delete_site(self, router: dict, region: str, site: dict) -> None:
        neutron = self.neutron
        found = neutron.get_router(region, site["router_id"]) if site.get("router_id") else None
        if found is not None:
            managed = {(r["destination"], r["nexthop"]) for r in site.get("routes", [])}
            kept = [r for r in found.get("routes") or []
                    if (r["destination"], r["nexthop"]) not in managed]
            if len(kept) != len(found.get("routes") or []):
                neutron.set_routes(region, found["id"], kept)
            for port in neutron.list_ports(region, device_id=found["id"]):
                if port.get("device_owner", "").startswith("network:router_interface"):
                    neutron.remove_interface(region, found["id"], port_id=port["id"])
            neutron.delete_router(region, found["id"])
        if site.get("transit_port_id"):
            neutron.delete_port(region, site["transit_port_id"])
