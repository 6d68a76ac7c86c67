"""Escrow allocation (the default policy) end to end: the regional Nova and Cinder
of regionsim refuse what is over their limits, and the limits Kingbird writes never
let a project's usage over all regions exceed its global limit."""

from __future__ import annotations

import concurrent.futures as cf
import uuid

import pytest
from conftest import Credentials
from kb_http import KingbirdHTTP
from test_quotas_api import nova_limits, sync_now_and_wait


@pytest.fixture(scope="module")
def kb(cloud) -> KingbirdHTTP:
    return KingbirdHTTP(cloud.kingbird_root)


@pytest.fixture(scope="module")
def ids(cloud) -> dict:
    return {"admin": cloud.project_id("admin"), "admin_token": cloud.admin_token()}


@pytest.fixture(scope="module")
def image(cloud) -> dict[str, str]:
    """A public image in every region (each region has its own Glance)."""
    return {region: cloud.admin(region).image.create_image(
        name=f"escrow-img-{uuid.uuid4().hex[:6]}", data=b"e" * 64, disk_format="raw",
        container_format="bare", visibility="public").id for region in cloud.regions}


class Tenant:
    """A fresh project with a member user, booting tiny servers without a network."""

    def __init__(self, cloud, image: dict[str, str]):
        self.cloud = cloud
        name = f"escrow-{uuid.uuid4().hex[:8]}"
        prov = cloud.provisioner()
        self.project_id = prov.ensure_project(name)
        prov.ensure_user(f"{name}-user", "escrow-secret", name, role="member")
        self.creds = Credentials(cloud.admin_creds.auth_url, f"{name}-user", "escrow-secret",
                                 name)
        self.image = image
        self.flavors: dict[str, str] = {}

    def conn(self, region: str):
        return self.cloud._connection(self.creds, region)

    def boot(self, region: str) -> int:
        """Try to boot one m1.tiny server (1 vCPU); the HTTP status Nova answers."""
        conn = self.conn(region)
        if region not in self.flavors:
            self.flavors[region] = next(f.id for f in conn.compute.flavors()
                                        if f.name == "m1.tiny")
        body = {"server": {"name": "escrow", "imageRef": self.image[region],
                           "flavorRef": self.flavors[region], "networks": "none"}}
        answer = conn.compute.post("/servers", json=body, microversion="2.37", raise_exc=False)
        assert answer.status_code in (202, 403), answer.text
        return answer.status_code


def set_limits(kb, ids, project: str, limits: dict) -> None:
    answer = kb.call("PUT", f"/v1.1/os-quota-sets/{project}", ids["admin_token"],
                     json={"quota_set": limits})
    assert answer.status_code == 200, answer.text


def regional(cloud, project: str, key: str) -> dict[str, int]:
    return {r: nova_limits(cloud, r, project)[key] for r in cloud.regions}


def test_regions_booting_at_once_never_exceed_the_global_limit(kb, ids, cloud, image):
    tenant = Tenant(cloud, image)
    set_limits(kb, ids, tenant.project_id, {"instances": 4, "cores": 40})
    sync_now_and_wait(kb, ids, tenant.project_id)
    assert sum(regional(cloud, tenant.project_id, "instances").values()) == 4

    def boot_many(region: str) -> int:
        return sum(tenant.boot(region) == 202 for _ in range(6))

    # every region tries 6 at once, and the periodic sync (3 s) rebalances meanwhile
    admitted = 0
    for _ in range(3):
        with cf.ThreadPoolExecutor(len(cloud.regions)) as pool:
            admitted += sum(pool.map(boot_many, cloud.regions))
        assert admitted <= 4
        sync_now_and_wait(kb, ids, tenant.project_id)
    assert admitted == 4  # and nothing was lost: the whole global limit was usable
    detail = kb.call("GET", f"/v1.1/os-quota-sets/{tenant.project_id}/detail",
                     ids["admin_token"]).json()["quota_set"]
    assert detail["usage"]["instances"] == 4


def test_lowering_the_limit_below_usage_forces_nova_and_keeps_the_sum(kb, ids, cloud, image):
    tenant = Tenant(cloud, image)
    set_limits(kb, ids, tenant.project_id, {"instances": 9, "cores": 9})
    sync_now_and_wait(kb, ids, tenant.project_id)
    booted = sum(tenant.boot("RegionOne") == 202 for _ in range(3))
    assert booted == 3

    set_limits(kb, ids, tenant.project_id, {"instances": 2, "cores": 2})
    sync_now_and_wait(kb, ids, tenant.project_id)
    instances = regional(cloud, tenant.project_id, "instances")
    assert sum(instances.values()) == 2
    assert instances["RegionOne"] <= 2 < 3  # below its usage: only Nova's force allows it
    assert all(tenant.boot(r) == 403 for r in cloud.regions)


def test_headroom_follows_the_region_that_consumes(kb, ids, cloud, image):
    tenant = Tenant(cloud, image)
    set_limits(kb, ids, tenant.project_id, {"instances": 60, "cores": 60})
    sync_now_and_wait(kb, ids, tenant.project_id)
    while tenant.boot("RegionTwo") == 202:  # RegionTwo takes its whole share
        pass
    sync_now_and_wait(kb, ids, tenant.project_id)
    detail = kb.call("GET", f"/v1.1/os-quota-sets/{tenant.project_id}/detail",
                     ids["admin_token"]).json()["quota_set"]
    room = {r: q["limits"]["instances"] - q["usage"]["instances"]
            for r, q in detail["regions"].items()}
    assert room["RegionTwo"] > 5 * max(room["RegionOne"], room["RegionThree"]), room
    assert min(room.values()) >= 1  # the floor: the idle regions can still start something
    assert sum(q["limits"]["instances"] for q in detail["regions"].values()) == 60
