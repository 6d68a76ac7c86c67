"""The ``[networking]`` options, checked once and handed to the API and the engine."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from kingbird.network import segments


@dataclass(frozen=True)
class ProjectLimits:
    """How many of each object one project may hold (None: no limit), by the name of
    its ``[networking]`` option."""

    global_networks: int | None = 20
    vips: int | None = 50
    sg_rules: int | None = 100
    routers: int | None = 20
    service_ports: int | None = 500

    OPTIONS = {"global_networks": "max_global_networks_per_project",
               "vips": "max_vips_per_project", "sg_rules": "max_sg_rules_per_project",
               "routers": "max_routers_per_project",
               "service_ports": "max_service_ports_per_project"}

    @classmethod
    def from_conf(cls, group) -> ProjectLimits:
        values = {name: getattr(group, option) for name, option in cls.OPTIONS.items()}
        return cls(**{k: None if v is None or v < 0 else int(v) for k, v in values.items()})


@dataclass(frozen=True)
class NetworkingSettings:
    """What cross-region networking needs from the configuration.

    :param tunnels: region -> address of its VXLAN tunnel endpoint.
    :param vni_ranges: the VXLAN ids Kingbird allocates.
    :param poll_interval: seconds between two reconciliations of an object.
    :param reserved_addresses: default size of a network's VIP block.
    :param limits: what one project may hold.
    """

    tunnels: dict[str, str] = field(default_factory=dict)
    vni_ranges: tuple[tuple[int, int], ...] = ((100000, 199999),)
    poll_interval: float = 10.0
    reserved_addresses: int = 8
    limits: ProjectLimits = field(default_factory=ProjectLimits)

    @classmethod
    def from_values(cls, tunnel_endpoints: Mapping[str, str], vni_ranges: Sequence[str],
                    poll_interval: float, reserved_addresses: int,
                    limits: ProjectLimits | None = None) -> NetworkingSettings:
        """:raises ValueError: a tunnel endpoint that is not an address, or bad ranges."""
        tunnels = {}
        for region, address in tunnel_endpoints.items():
            try:
                tunnels[region] = str(ipaddress.ip_address(str(address).strip()))
            except ValueError:
                raise ValueError(f"[networking] tunnel_endpoints: {address!r} of {region} is "
                                 "not an IP address") from None
        return cls(tunnels, tuple(segments.parse_ranges(vni_ranges)), float(poll_interval),
                   int(reserved_addresses), limits or ProjectLimits())

    @classmethod
    def from_conf(cls, group) -> NetworkingSettings:
        """From the ``[networking]`` group of a loaded configuration."""
        return cls.from_values(group.tunnel_endpoints, group.vni_ranges, group.poll_interval,
                               group.reserved_addresses, ProjectLimits.from_conf(group))
