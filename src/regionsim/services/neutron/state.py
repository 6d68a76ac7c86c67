"""The Neutron state of one region, its quotas, and what Nova may ask of it.

Every method expects the caller to hold ``region.lock`` (routes take it; Nova
calls in while holding it already).
"""

from __future__ import annotations

from regionsim.services.neutron import ports as port_ops
from regionsim.services.neutron import secgroups as sg_ops
from regionsim.services.neutron.errors import OverQuota
from regionsim.services.neutron.store import Table

# Neutron's shipped defaults ([quotas] section of neutron.conf).
DEFAULT_QUOTAS: dict[str, int] = {
    "network": 100, "subnet": 100, "subnetpool": -1, "port": 500, "router": 10,
    "floatingip": 50, "security_group": 10, "security_group_rule": 100, "rbac_policy": 10,
}


def over_quota(limits: dict[str, int], usage: dict[str, int], deltas: dict[str, int]) -> list[str]:
    """Resources whose usage plus delta would pass their limit (-1 is unlimited)."""
    return sorted(name for name, delta in deltas.items()
                  if limits.get(name, -1) >= 0 and usage.get(name, 0) + delta > limits[name])


class State:
    """Networks, subnets, ports, routers, floating IPs and security groups of a region."""

    def __init__(self, region) -> None:
        self.region = region
        self.networks = Table()
        self.subnets = Table()
        self.ports = Table()
        self.routers = Table()
        self.floatingips = Table()
        self.security_groups = Table()
        self.security_group_rules = Table()
        self.quota_limits: dict[str, dict[str, int]] = {}
        # (network_type, physical_network, segmentation_id) -> network id
        self.segments: dict[tuple, str] = {}
        self.ports_by_device: dict[str, dict[str, None]] = {}
        self.ports_by_network: dict[str, dict[str, None]] = {}
        self.default_sg: dict[str, str] = {}
        # The table whose rows each quota resource counts.
        self._counted: dict[str, Table] = {
            "network": self.networks, "subnet": self.subnets, "port": self.ports,
            "router": self.routers, "floatingip": self.floatingips,
            "security_group": self.security_groups,
            "security_group_rule": self.security_group_rules}

    # -- quotas -------------------------------------------------------------

    def limits(self, project_id: str) -> dict[str, int]:
        limits = dict(DEFAULT_QUOTAS)
        limits.update(self.quota_limits.get(project_id, {}))
        return limits

    def usage(self, project_id: str, resource: str) -> int:
        """How many ``resource`` the project has: the real rows, counted now."""
        table = self._counted.get(resource)
        return table.count(project_id) if table is not None else 0

    def check_quota(self, project_id: str, deltas: dict[str, int]) -> None:
        """Raise ``OverQuota`` if creating ``deltas`` would pass a limit of ``project_id``."""
        if not project_id:
            return  # ports of router gateways and floating IPs belong to no project
        limits = self.limits(project_id)
        usage = {name: self.usage(project_id, name) for name in deltas}
        overs = over_quota(limits, usage, deltas)
        if overs:
            raise OverQuota(overs)

    # -- lookups ------------------------------------------------------------

    def get_network(self, network_id: str) -> dict | None:
        """The internal record of a network (contract with Nova)."""
        return self.networks.get(network_id)

    def ensure_default_security_group(self, project_id: str) -> str | None:
        """Create the project's ``default`` group on first use, as Neutron does."""
        return sg_ops.ensure_default(self, project_id)

    # -- contract with Nova -------------------------------------------------

    def create_port_for_server(self, project_id: str, network_id: str, device_id: str,
                               fixed_ip: str | None = None) -> dict:
        """A port of ``project_id`` on ``network_id`` bound to server ``device_id``.

        :raises OverQuota: the project has no port quota left.
        :raises NoFreeIP: the network's subnets have no free address.
        :raises KeyError: no such network.
        """
        if network_id not in self.networks.rows:
            raise KeyError(network_id)
        return port_ops.create_for_server(self, project_id, network_id, device_id, fixed_ip)

    def get_port(self, port_id: str) -> dict | None:
        """The internal record of a port (Nova's ``networks: [{"port": id}]``)."""
        return self.ports.get(port_id)

    def bind_port(self, port_id: str, device_id: str) -> dict:
        """Plug an existing port into server ``device_id`` on this region's compute host."""
        return port_ops.bind_existing(self, self.ports.rows[port_id], device_id)

    def unbind_port(self, port_id: str) -> None:
        """Unplug a port a server was given at boot: it outlives the server, as in Nova."""
        port = self.ports.get(port_id)
        if port is not None:
            port_ops.bind_existing(self, port, "")

    def delete_ports_of_device(self, device_id: str) -> None:
        """Delete the ports Nova created for a server that is going away."""
        for port_id in list(self.ports_by_device.get(device_id, ())):
            port_ops.delete_port(self, self.ports.rows[port_id])

    def ports_of_device(self, device_id: str) -> list[dict]:
        return [self.ports.rows[i] for i in self.ports_by_device.get(device_id, ())]
