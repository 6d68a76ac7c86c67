"""Helpers of the disaster recovery tests: a tenant of their own, a 3-VM VNF with
boot and data volumes holding known bytes, and ``os-dr`` over HTTP."""

from __future__ import annotations

import base64
import secrets
import time
import uuid
from dataclasses import dataclass, field

import openstack.connection
import requests
from demo_support import Cloud, Credentials
from kb_http import KingbirdHTTP, wait_for

from kingbird.quota.keys import QUOTA_KEYS

ONE, TWO = "RegionOne", "RegionTwo"
REPLICATED = "replicated"
CIDR = "10.77.0.0/24"


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


@dataclass
class Tenant:
    """A project of the DR tests, with a member user and raised quotas."""

    cloud: Cloud
    creds: Credentials
    project_id: str
    _conns: dict = field(default_factory=dict)

    def conn(self, region: str) -> openstack.connection.Connection:
        if region not in self._conns:
            self._conns[region] = openstack.connection.Connection(
                session=self.cloud.session_for(self.creds), region_name=region,
                interface="public")
        return self._conns[region]

    def token(self) -> str:
        return self.cloud.session_for(self.creds).get_token()


def make_tenant(cloud: Cloud, regions: list[str]) -> Tenant:
    name = unique("dr")
    password = secrets.token_urlsafe(12)
    cloud.provisioner().ensure_user(name, password, name, role="member")
    creds = Credentials(cloud.admin_creds.auth_url, name, password, name)
    project_id = cloud.project_id(name)
    # Kingbird's quota sync sets every region's limits from the global ones: the
    # tenant's are unlimited, and the service project (where replicas are managed
    # before being given to the tenant) may hold the VNF's volumes.
    service_id = cloud.project_id("service")
    kb = KingbirdHTTP(cloud.kingbird_root)
    for project, limits in ((project_id, {key: -1 for key in QUOTA_KEYS}),
                            (service_id, {"volumes": -1, "gigabytes": -1})):
        answer = kb.call("PUT", f"/v1.1/os-quota-sets/{project}", cloud.admin_token(),
                         json={"quota_set": limits})
        assert answer.status_code == 200, answer.text

    def synced():
        return all(cloud.admin(r).block_storage.get_quota_set(p).volumes == -1
                   and cloud.admin(r).compute.get_quota_set(project_id).instances == -1
                   for r in regions for p in (project_id, service_id))

    wait_for(synced, timeout=60, what="unlimited regional quotas")
    return Tenant(cloud, creds, project_id)


# -- the simulator's content routes (admin) --------------------------------------------

def _sim_url(conn, path: str) -> str:
    base = conn.block_storage.get_endpoint().split("/volume/")[0]
    return f"{base}/volume/_sim/{path}"


def write(cloud: Cloud, region: str, volume_id: str, data: bytes) -> str:
    """Make the volume hold ``data``; its digest."""
    answer = requests.put(_sim_url(cloud.admin(region), f"volumes/{volume_id}/content"),
                          json={"data": base64.b64encode(data).decode()}, timeout=30,
                          headers={"X-Auth-Token": cloud.admin_token()})
    answer.raise_for_status()
    return answer.json()["digest"]


def digest(cloud: Cloud, region: str, volume_id: str) -> str:
    answer = requests.get(_sim_url(cloud.admin(region), f"volumes/{volume_id}/content"),
                          timeout=30, headers={"X-Auth-Token": cloud.admin_token()})
    answer.raise_for_status()
    return answer.json()["digest"]


def backup_bytes(cloud: Cloud, region: str, backup_id: str) -> int:
    """Bytes a backup wrote to the backup store (regionsim's account of it)."""
    answer = requests.get(_sim_url(cloud.admin(region), f"backups/{backup_id}"), timeout=30,
                          headers={"X-Auth-Token": cloud.admin_token()})
    answer.raise_for_status()
    return answer.json()["stored_bytes"]


# -- the VNF ------------------------------------------------------------------------------

@dataclass
class Vnf:
    """Three servers booted from volumes, each with a data volume, on one network."""

    servers: list[dict]  # {"id", "name", "ip", "boot", "data"} in boot order
    network: str
    flavor_id: str
    key_name: str
    group: str


def ensure_replicated_type(cloud: Cloud, region: str) -> None:
    admin = cloud.admin(region)
    if not any(t.name == REPLICATED for t in admin.block_storage.types()):
        admin.block_storage.create_type(name=REPLICATED,
                                        extra_specs={"replication_enabled": "<is> True"})


def make_network(tenant: Tenant, region: str, name: str) -> str:
    conn = tenant.conn(region)
    network = conn.network.create_network(name=name)
    conn.network.create_subnet(network_id=network.id, cidr=CIDR, ip_version=4, name=name)
    return network.id


BLOCK = 32 * 1024


def volume_bytes(label: str, blocks: int = 32, version: int = 0, changed: int = 0) -> bytes:
    """Deterministic content of ``blocks`` 32 KiB blocks; at ``version`` N > 0 the
    first ``changed`` blocks differ from version 0, the others are the same."""
    return b"".join(f"{label}:{i}:{version if i < changed else 0}:".encode().ljust(BLOCK, b".")
                    for i in range(blocks))


def make_vnf(cloud: Cloud, tenant: Tenant, *, replicated: bool, recovery: str = TWO,
             count: int = 3) -> Vnf:
    """``count`` servers in RegionOne; their network (same name and CIDR) in
    ``recovery`` too."""
    tag = uuid.uuid4().hex[:6]
    conn = tenant.conn(ONE)
    network_name = f"vnf-net-{tag}"
    network_id = make_network(tenant, ONE, network_name)
    make_network(tenant, recovery, network_name)
    group = conn.network.create_security_group(name=f"vnf-sg-{tag}", description="vnf")
    conn.network.create_security_group_rule(security_group_id=group.id, direction="ingress",
                                            protocol="tcp", port_range_min=22,
                                            port_range_max=22, ethertype="IPv4")
    key_name = f"vnf-key-{tag}"
    conn.compute.create_keypair(name=key_name)
    admin = cloud.admin(ONE)
    flavor = admin.compute.create_flavor(name=f"vnf-flavor-{tag}", ram=512, vcpus=1, disk=1)
    admin.compute.create_flavor_extra_specs(flavor, {"hw:cpu_policy": "dedicated"})
    image = admin.image.create_image(name=f"vnf-image-{tag}", data=b"vnf root disk " * 64,
                                     disk_format="raw", container_format="bare",
                                     visibility="public", allow_duplicates=True)
    volume_type = REPLICATED if replicated else None
    servers = []
    for index in range(count):
        name = f"vnf-{tag}-{index + 1}"
        boot = conn.block_storage.create_volume(size=1, image_id=image.id, name=f"{name}-boot",
                                                volume_type=volume_type)
        data = conn.block_storage.create_volume(size=1, name=f"{name}-data",
                                                volume_type=volume_type)
        for volume in (boot, data):
            conn.block_storage.wait_for_status(volume, "available", wait=30)
        ip = f"10.77.0.{11 + index}"
        port = conn.network.create_port(network_id=network_id, fixed_ips=[{"ip_address": ip}],
                                        security_group_ids=[group.id], name=f"{name}-port")
        server = conn.compute.create_server(
            name=name, flavor_id=flavor.id, key_name=key_name, networks=[{"port": port.id}],
            block_device_mapping=[{"boot_index": 0, "uuid": boot.id, "source_type": "volume",
                                   "destination_type": "volume"}])
        conn.compute.wait_for_server(server, wait=30)
        conn.compute.create_volume_attachment(server, volume_id=data.id)
        conn.block_storage.wait_for_status(data, "in-use", wait=30)
        servers.append({"id": server.id, "name": name, "ip": ip, "boot": boot.id,
                        "data": data.id})
    return Vnf(servers, network_name, flavor.id, key_name, group.name)


def write_contents(cloud: Cloud, vnf: Vnf, version: int, blocks: int = 32,
                   changed: int = 2) -> dict[str, str]:
    """Known bytes in every volume; digests by volume id. Version 0 writes them all;
    a later version changes ``changed`` of the ``blocks`` blocks of each data volume,
    the way a disk changes between two restore points, and leaves the boot volumes
    alone."""
    digests = {}
    for server in vnf.servers:
        data = volume_bytes(f"{server['name']}-data", blocks, version=version,
                            changed=changed)
        digests[server["data"]] = write(cloud, ONE, server["data"], data)
        if version == 0:
            digests[server["boot"]] = write(cloud, ONE, server["boot"],
                                            volume_bytes(f"{server['name']}-boot", blocks))
    return digests


# -- os-dr over HTTP ------------------------------------------------------------------------

class DrAPI:
    """``os-dr`` of one project: ``/v1.0/{tenant}/os-dr/...``."""

    def __init__(self, kb: KingbirdHTTP, tenant: str):
        self.kb = kb
        self.tenant = tenant

    def call(self, method: str, path: str, token: str, json=None) -> requests.Response:
        return self.kb.call(method, f"/v1.0/{self.tenant}/os-dr{path}", token, json=json)

    def create_plan(self, token: str, **plan) -> requests.Response:
        return self.call("POST", "/plans", token, {"plan": plan})

    def plan(self, token: str, plan_id: str) -> dict:
        answer = self.call("GET", f"/plans/{plan_id}", token)
        assert answer.status_code == 200, answer.text
        return answer.json()["plan"]

    def points(self, token: str, plan_id: str) -> list[dict]:
        answer = self.call("GET", f"/plans/{plan_id}/restore-points", token)
        assert answer.status_code == 200, answer.text
        return answer.json()["restore_points"]

    def point(self, token: str, plan_id: str, point_id: str) -> dict:
        answer = self.call("GET", f"/plans/{plan_id}/restore-points/{point_id}", token)
        assert answer.status_code == 200, answer.text
        return answer.json()["restore_point"]

    def wait_points(self, token: str, plan_id: str, count: int, timeout: float = 60) -> list:
        """The plan's restore points once ``count`` are available (none failed)."""
        def ready():
            points = self.points(token, plan_id)
            failed = [p for p in points if p["status"] == "ERROR"]
            assert not failed, failed
            available = [p for p in points if p["status"] == "AVAILABLE"]
            return available if len(available) >= count else None
        return wait_for(ready, timeout=timeout, interval=0.3, what=f"{count} restore points")

    def take_point(self, token: str, plan_id: str, timeout: float = 60) -> dict:
        """Request a restore point and wait for it; the new restore point."""
        before = {p["id"] for p in self.points(token, plan_id)}
        answer = self.call("POST", f"/plans/{plan_id}/restore-points", token)
        assert answer.status_code == 202, answer.text

        def made():
            new = [p for p in self.points(token, plan_id) if p["id"] not in before]
            assert not [p for p in new if p["status"] == "ERROR"], new
            return new[0] if new and new[0]["status"] == "AVAILABLE" else None
        return wait_for(made, timeout=timeout, interval=0.2, what="restore point")

    def operation(self, token: str, operation_id: str) -> dict:
        answer = self.call("GET", f"/operations/{operation_id}", token)
        assert answer.status_code == 200, answer.text
        return answer.json()["operation"]

    def wait_operation(self, token: str, operation_id: str, timeout: float = 90) -> dict:
        def done():
            op = self.operation(token, operation_id)
            return op if op["status"] in ("SUCCESS", "FAILURE") else None
        return wait_for(done, timeout=timeout, interval=0.2, what=f"operation {operation_id}")


def servers_in(tenant: Tenant, region: str) -> list:
    return list(tenant.conn(region).compute.servers(details=True))


def addresses(server) -> list[tuple[str, str]]:
    """``[(network name, ip)]`` of a server."""
    return sorted((net, a["addr"]) for net, entries in (server.addresses or {}).items()
                  for a in entries)


def elapsed(start: float) -> float:
    return round(time.monotonic() - start, 2)
