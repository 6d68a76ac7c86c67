"""Shadow ports: what each region must hold so that ports of the other regions are
known to its Neutron. Pure planning, no I/O.

A port on a global network in region A gets, in every other region B of the
network, a *shadow*: a port with the same MAC, fixed IPs and allowed address
pairs, ``device_owner`` ``compute:shadow``, bound to A's tunnel endpoint
(``binding:host_id`` is the endpoint's address, ``binding:profile`` names the
region, the endpoint and the original port). B's Neutron then

- never hands the address out again (the shadow holds it),
- lets its L2 population send frames for that MAC to A's tunnel endpoint, and
- knows the MAC/IP pairs anti-spoofing must accept from the tunnel.

The planner compares what the regions hold with what they should hold and
returns the creations, updates and deletions to converge. Regions that did not
answer are left alone: their shadows are not touched and the shadows of their
ports elsewhere are kept (a region that cannot be read is not a region whose
ports are gone).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

SHADOW_OWNER = "compute:shadow"
VIP_OWNER = "kingbird:vip"
# Ports that stay in their own region: each region's DHCP serves its own pool.
LOCAL_OWNERS = frozenset({"network:dhcp"})
NOT_SHADOWED = LOCAL_OWNERS | {SHADOW_OWNER, VIP_OWNER}


@dataclass(frozen=True)
class Port:
    """What Kingbird reads of a Neutron port (admin view)."""

    id: str
    region: str
    mac: str
    ips: tuple[str, ...] = ()
    pairs: tuple[tuple[str, str], ...] = ()  # (ip_address, mac_address)
    port_security: bool = True
    device_owner: str = ""
    device_id: str = ""
    host: str = ""
    name: str = ""
    security_groups: tuple[str, ...] = ()
    profile: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @classmethod
    def from_neutron(cls, region: str, body: Mapping[str, Any]) -> Port:
        mac = str(body.get("mac_address") or "").lower()
        pairs = sorted({(str(p["ip_address"]), str(p.get("mac_address") or mac).lower())
                        for p in body.get("allowed_address_pairs") or ()})
        profile = body.get("binding:profile")
        return cls(
            id=body["id"], region=region, mac=mac,
            ips=tuple(sorted(str(f["ip_address"]) for f in body.get("fixed_ips") or ())),
            pairs=tuple(pairs),
            port_security=bool(body.get("port_security_enabled", True)),
            device_owner=body.get("device_owner") or "",
            device_id=body.get("device_id") or "",
            host=body.get("binding:host_id") or "",
            name=body.get("name") or "",
            security_groups=tuple(body.get("security_groups") or ()),
            profile=dict(profile) if isinstance(profile, Mapping) else {})

    @property
    def is_shadow(self) -> bool:
        return (self.device_owner == SHADOW_OWNER and isinstance(self.profile.get("region"), str)
                and isinstance(self.profile.get("port_id"), str))

    @property
    def shadow_of(self) -> tuple[str, str] | None:
        """(region, port id) of the port this shadow stands for; None if not a shadow."""
        return (self.profile["region"], self.profile["port_id"]) if self.is_shadow else None

    @property
    def is_source(self) -> bool:
        """A port of the region itself, which the other regions must shadow."""
        return self.device_owner not in NOT_SHADOWED


def shadow_name(port_id: str) -> str:
    return f"shadow-{port_id}"


@dataclass(frozen=True)
class ShadowSpec:
    """The shadow a source port must have in another region."""

    source_region: str
    source_id: str
    mac: str
    ips: tuple[str, ...]
    pairs: tuple[tuple[str, str], ...]
    port_security: bool
    tunnel_ip: str

    @property
    def profile(self) -> dict[str, str]:
        return {"region": self.source_region, "port_id": self.source_id,
                "tunnel_ip": self.tunnel_ip}

    def _pairs_body(self) -> list[dict[str, str]]:
        if not self.port_security:
            return []  # Neutron refuses pairs on a port without port security
        return [{"ip_address": ip, "mac_address": mac} for ip, mac in self.pairs]

    def create_body(self) -> dict[str, Any]:
        """The Neutron port body (``network_id`` is added by the caller)."""
        return {"name": shadow_name(self.source_id), "mac_address": self.mac,
                "fixed_ips": [{"ip_address": ip} for ip in self.ips],
                "device_owner": SHADOW_OWNER, "device_id": self.source_id,
                "binding:host_id": self.tunnel_ip, "binding:profile": self.profile,
                "port_security_enabled": self.port_security, "security_groups": [],
                "allowed_address_pairs": self._pairs_body()}

    def update_body(self, shadow: Port) -> dict[str, Any]:
        """The attributes of ``shadow`` that differ from this spec (empty: in sync).

        The MAC is not among them: a bound port's MAC cannot change, so a shadow
        with another MAC is replaced instead (see ``plan_shadows``).
        """
        body: dict[str, Any] = {}
        if shadow.ips != self.ips:
            body["fixed_ips"] = [{"ip_address": ip} for ip in self.ips]
        wanted_pairs = self.pairs if self.port_security else ()
        if shadow.port_security != self.port_security:
            body["port_security_enabled"] = self.port_security
        if shadow.pairs != wanted_pairs or (body.get("port_security_enabled") is False
                                            and shadow.pairs):
            body["allowed_address_pairs"] = self._pairs_body()
        if shadow.host != self.tunnel_ip:
            body["binding:host_id"] = self.tunnel_ip
        if shadow.profile != self.profile:
            body["binding:profile"] = self.profile
        if shadow.name != shadow_name(self.source_id):
            body["name"] = shadow_name(self.source_id)
        return body


def shadow_spec(source: Port, tunnel_ip: str) -> ShadowSpec:
    return ShadowSpec(source.region, source.id, source.mac, source.ips, source.pairs,
                      source.port_security, tunnel_ip)


@dataclass
class ShadowPlan:
    """Actions that bring the regions to the wanted shadows; apply deletions first
    (a replacement reuses the MAC and addresses of what it replaces)."""

    creates: list[tuple[str, ShadowSpec]] = field(default_factory=list)
    updates: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    deletes: list[tuple[str, str]] = field(default_factory=list)
    # (region, source port id) -> why it cannot be shadowed
    conflicts: dict[tuple[str, str], str] = field(default_factory=dict)
    # (region, source port id) -> {target region: existing shadow id, or None if to create}
    shadows: dict[tuple[str, str], dict[str, str | None]] = field(default_factory=dict)

    def empty(self) -> bool:
        return not (self.creates or self.updates or self.deletes)


def _conflicts(sources: Sequence[Port]) -> dict[tuple[str, str], str]:
    """Sources of different regions sharing an address or a MAC: neither can be
    shadowed into the other's region, where the address is really in use."""
    holders: dict[tuple[str, str], list[Port]] = {}
    for port in sources:
        for ip in port.ips:
            holders.setdefault(("address", ip), []).append(port)
        holders.setdefault(("MAC", port.mac), []).append(port)
    found: dict[tuple[str, str], str] = {}
    for (kind, value), ports in holders.items():
        if len({p.region for p in ports}) < 2:
            continue
        for port in ports:
            others = ", ".join(f"{p.id} in {p.region}" for p in ports if p is not port)
            found.setdefault((port.region, port.id),
                             f"{kind} {value} is also used by port {others}")
    return found


def plan_shadows(regions: Sequence[str], observed: Mapping[str, Sequence[Port]],
                 tunnels: Mapping[str, str]) -> ShadowPlan:
    """What to create, update and delete so that every source port of every region
    has exactly one up-to-date shadow in each other region.

    :param regions: the regions of the global network.
    :param observed: the ports of the network in each region that answered;
        a region missing here is unknown, and nothing of it is deleted.
    :param tunnels: tunnel endpoint address of each region.
    """
    plan = ShadowPlan()
    sources = {r: [p for p in observed[r] if p.is_source] for r in observed}
    shadows = {r: [p for p in observed[r] if p.is_shadow] for r in observed}
    plan.conflicts = _conflicts([p for ports in sources.values() for p in ports])
    wanted: set[tuple[str, str, str]] = set()  # (target region, source region, source id)
    for region in regions:
        for source in sources.get(region, ()):
            key = (region, source.id)
            targets = plan.shadows.setdefault(key, {})
            tunnel = tunnels.get(region)
            if tunnel is None:
                plan.conflicts.setdefault(key, f"no tunnel endpoint is configured for {region}")
            for target in regions:
                if target == region:
                    continue
                wanted.add((target, region, source.id))
                existing = [s for s in shadows.get(target, ()) if s.shadow_of == key]
                targets[target] = existing[0].id if existing else None
                if target not in observed or key in plan.conflicts:
                    continue
                spec = shadow_spec(source, tunnel)
                for duplicate in existing[1:]:
                    plan.deletes.append((target, duplicate.id))
                if not existing:
                    plan.creates.append((target, spec))
                elif existing[0].mac != spec.mac:
                    plan.deletes.append((target, existing[0].id))
                    plan.creates.append((target, spec))
                    targets[target] = None
                else:
                    body = spec.update_body(existing[0])
                    if body:
                        plan.updates.append((target, existing[0].id, body))
    for target, ports in shadows.items():
        for shadow in ports:
            src_region, src_id = shadow.shadow_of
            if (target, src_region, src_id) in wanted:
                continue
            if src_region in regions and src_region != target and src_region not in observed:
                continue  # its region did not answer: the port may well still exist
            plan.deletes.append((target, shadow.id))
    return plan
