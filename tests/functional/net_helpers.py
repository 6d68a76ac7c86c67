"""Helpers of the cross-region networking tests: a tenant of their own with room in
its quotas, and the ``os-global-networks`` API as that tenant sees it."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass

import openstack.connection
from demo_support import Cloud, Credentials
from kb_http import KingbirdHTTP, wait_for

# Quota keys the tests' networks, subnets, ports, groups and routers count in,
# unlimited for the test tenant (and ports for Kingbird's own service project,
# which owns the shadow ports and VIP reservations).
UNLIMITED = {key: -1 for key in ("network", "subnet", "port", "router", "security_group",
                                 "security_group_rule")}


@dataclass
class NetTenant:
    """A project and member user of these tests alone."""

    creds: Credentials
    project_id: str
    cloud: Cloud

    def token(self) -> str:
        return self.cloud.session_for(self.creds).get_token()

    def conn(self, region: str) -> openstack.connection.Connection:
        return openstack.connection.Connection(
            session=self.cloud.session_for(self.creds), region_name=region,
            interface="public")


def make_tenant(cloud: Cloud, kb: KingbirdHTTP, prefix: str) -> NetTenant:
    name = f"{prefix}-{uuid.uuid4().hex[:8]}"
    password = secrets.token_urlsafe(16)
    cloud.provisioner().ensure_user(name, password, name, role="member")
    project_id = cloud.project_id(name)
    service_id = cloud.project_id("service")
    for project, limits in ((project_id, UNLIMITED), (service_id, {"port": -1})):
        answer = kb.call("PUT", f"/v1.1/os-quota-sets/{project}", cloud.admin_token(),
                         json={"quota_set": limits})
        assert answer.status_code == 200, answer.text

    def synced():
        return all(cloud.admin(r).network.get_quota(p).ports == -1
                   for r in cloud.regions for p in (project_id, service_id))

    wait_for(synced, timeout=60, what="unlimited regional port quotas")
    return NetTenant(Credentials(cloud.admin_creds.auth_url, name, password, name),
                     project_id, cloud)


class NetAPI:
    """``/v1.0/{tenant}/os-global-networks`` and friends, with one token."""

    def __init__(self, kb: KingbirdHTTP, token: str, tenant: str):
        self.kb = kb
        self.token = token
        self.base = f"/v1.0/{tenant}"

    def call(self, method: str, path: str, json=None):
        return self.kb.call(method, self.base + path, self.token, json=json)

    def create(self, cidr: str, regions, **fields) -> dict:
        answer = self.call("POST", "/os-global-networks", {"global_network": {
            "cidr": cidr, "regions": list(regions), **fields}})
        assert answer.status_code == 202, answer.text
        return answer.json()["global_network"]

    def show(self, network_id: str) -> dict:
        answer = self.call("GET", f"/os-global-networks/{network_id}")
        assert answer.status_code == 200, answer.text
        return answer.json()["global_network"]

    def wait_active(self, network_id: str, timeout: float = 30) -> dict:
        seen: list[dict] = []

        def active():
            seen.append(self.show(network_id))
            return seen[-1] if seen[-1]["status"] == "ACTIVE" else None

        try:
            return wait_for(active, timeout=timeout, what=f"global network {network_id}")
        except AssertionError as exc:
            raise AssertionError(f"{exc}; last seen: {seen[-1]['status']} "
                                 f"{seen[-1]['error']}") from None

    def ports(self, network_id: str) -> list[dict]:
        answer = self.call("GET", f"/os-global-networks/{network_id}/ports")
        assert answer.status_code == 200, answer.text
        return answer.json()["ports"]

    def port(self, network_id: str, port_id: str) -> dict | None:
        return next((p for p in self.ports(network_id) if p["port_id"] == port_id), None)

    def wait_port(self, network_id: str, port_id: str, regions: int,
                  timeout: float = 30) -> dict:
        """The port once it has a shadow in each of ``regions`` other regions."""
        def shadowed():
            port = self.port(network_id, port_id)
            if port and port["status"] == "ACTIVE" and len(port["shadows"]) == regions:
                return port
            return None

        return wait_for(shadowed, timeout=timeout, what=f"shadows of port {port_id}")

    def attach(self, network_id: str, region: str, port_id: str):
        return self.call("POST", f"/os-global-networks/{network_id}/ports",
                         {"port": {"region": region, "port_id": port_id}})

    def delete(self, network_id: str, timeout: float = 30) -> None:
        """Delete and wait until the network is gone."""
        answer = self.call("DELETE", f"/os-global-networks/{network_id}")
        assert answer.status_code == 202, answer.text
        wait_for(lambda: self.call("GET", f"/os-global-networks/{network_id}").status_code
                 == 404, timeout=timeout, what=f"deletion of {network_id}")


def shadows_in(conn: openstack.connection.Connection, network_id: str) -> list:
    return [p for p in conn.network.ports(network_id=network_id)
            if p.device_owner == "compute:shadow"]
