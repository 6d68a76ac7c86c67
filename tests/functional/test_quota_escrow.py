"""Escrow allocation (the default policy) end to end: the regional Nova and Cinder
of regionsim refuse what is over their limits, and the limits Kingbird writes never
let a project's usage over all regions exceed its global limit."""

from __future__ import annotations

import concurrent.futures as cf
import datetime as dt
import uuid

import pytest
from demo_support import Credentials
from kb_http import KingbirdHTTP, wait_for
from test_quotas_api import last_sync, nova_limits, sync_now_and_wait


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


def test_a_project_filling_its_limit_is_synced_again_sooner(kb, ids, cloud, image):
    # The shared stack syncs every 3 s, so a contended project every 0.75 s.
    tenant = Tenant(cloud, image)
    set_limits(kb, ids, tenant.project_id, {"instances": 3, "cores": 30})
    first = sync_now_and_wait(kb, ids, tenant.project_id)
    assert first["contended"] is False  # nothing used yet
    booted = 0
    while booted < 3:  # a periodic sync may move the headroom while the regions boot
        for region in cloud.regions:
            while tenant.boot(region) == 202:
                booted += 1
        filled = sync_now_and_wait(kb, ids, tenant.project_id)
    assert filled["contended"] is True  # at its limit, and the usage moved

    def next_sync():
        status = last_sync(kb, ids, tenant.project_id)
        return status if status["last_sync_at"] != filled["last_sync_at"] else None

    # no request: the engine comes back by itself, well before the periodic 3 s
    again = wait_for(next_sync, timeout=10, interval=0.05, what="the contended re-sync")
    gap = (dt.datetime.fromisoformat(again["last_sync_at"])
           - dt.datetime.fromisoformat(filled["last_sync_at"])).total_seconds()
    assert gap < 2.5, gap
    assert again["contended"] is False  # full but idle: back to the periodic interval
