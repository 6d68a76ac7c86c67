"""The ``[networking]`` options, checked once and handed to the API and the engine."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from kingbird.network import segments


@dataclass(frozen=True)
class NetworkingSettings:
    """What cross-region networking needs from the configuration.

    :param tunnels: region -> address of its VXLAN tunnel endpoint.
    :param vni_ranges: the VXLAN ids Kingbird allocates.
    :param poll_interval: seconds between two reconciliations of an object.
    :param reserved_addresses: default size of a network's VIP block.
    """

    tunnels: dict[str, str] = field(default_factory=dict)
    vni_ranges: tuple[tuple[int, int], ...] = ((100000, 199999),)
    poll_interval: float = 10.0
    reserved_addresses: int = 8

    @classmethod
    def from_values(cls, tunnel_endpoints: Mapping[str, str], vni_ranges: Sequence[str],
                    poll_interval: float, reserved_addresses: int) -> NetworkingSettings:
        """:raises ValueError: a tunnel endpoint that is not an address, or bad ranges."""
        tunnels = {}
        for region, address in tunnel_endpoints.items():
            try:
                tunnels[region] = str(ipaddress.ip_address(str(address).strip()))
            except ValueError:
                raise ValueError(f"[networking] tunnel_endpoints: {address!r} of {region} is "
                                 "not an IP address") from None
        return cls(tunnels, tuple(segments.parse_ranges(vni_ranges)), float(poll_interval),
                   int(reserved_addresses))

    @classmethod
    def from_conf(cls, group) -> NetworkingSettings:
        """From the ``[networking]`` group of a loaded configuration."""
        return cls.from_values(group.tunnel_endpoints, group.vni_ranges, group.poll_interval,
                               group.reserved_addresses)
