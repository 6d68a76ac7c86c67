"""``[quota] allocation = classic``: the original formula, on a second demo stack.

The two end-to-end checks of the formula are those the quota API tests made before
escrow became the default, unchanged; the last test shows why escrow is the
default: under classic, regions booting at once exceed the global limit.
"""

from __future__ import annotations

import concurrent.futures as cf
import uuid

import pytest
from demo_support import Cloud, Credentials, _read_openrc, start_demo, stop_demo
from kb_http import KingbirdHTTP
from test_quotas_api import (
    fresh_project,
    make_boot_kit,
    nova_limits,
    sync_now_and_wait,
    two_servers_in_region_one,
)


@pytest.fixture(scope="module")
def cloud(tmp_path_factory) -> Cloud:
    """A stack of its own (this module's ``cloud`` shadows the session's)."""
    state_dir = tmp_path_factory.mktemp("classic") / "demo"
    state_dir.mkdir()
    proc, summary = start_demo(state_dir, "--sync-interval", "3", "--allocation", "classic")
    admin = _read_openrc(summary["admin_openrc"])
    member = _read_openrc(summary["member_openrc"])

    def creds(env):
        return Credentials(env["OS_AUTH_URL"], env["OS_USERNAME"], env["OS_PASSWORD"],
                           env["OS_PROJECT_NAME"])

    yield Cloud(summary, creds(admin), creds(member))
    stop_demo(proc)


@pytest.fixture(scope="module")
def kb(cloud) -> KingbirdHTTP:
    return KingbirdHTTP(cloud.kingbird_root)


@pytest.fixture(scope="module")
def ids(cloud) -> dict:
    return {"admin": cloud.project_id("admin"), "demo": cloud.project_id("demo"),
            "admin_token": cloud.admin_token()}


@pytest.fixture(scope="module")
def boot_kit(cloud):
    return make_boot_kit(cloud)


def test_sync_applies_the_formula_in_every_region(kb, ids, cloud, boot_kit):
    with two_servers_in_region_one(kb, ids, cloud, boot_kit) as limits:
        expected = {"RegionOne": (20, 10), "RegionTwo": (16, 8), "RegionThree": (16, 8)}
        for region, (cores, instances) in expected.items():
            assert (limits[region]["cores"], limits[region]["instances"]) == (cores, instances), \
                region


def test_a_region_down_during_sync_changes_no_region_and_is_recorded(kb, ids, cloud):
    project, token = fresh_project(cloud), ids["admin_token"]
    path = f"/v1.1/os-quota-sets/{project}"
    kb.call("PUT", path, token, json={"quota_set": {"cores": 30}})
    sync_now_and_wait(kb, ids, project)
    assert all(nova_limits(cloud, r, project)["cores"] == 30 for r in cloud.regions)

    assert cloud.sim("POST", "/regions/RegionThree/down").status_code == 200
    try:
        kb.call("PUT", path, token, json={"quota_set": {"cores": 12}})
        status = sync_now_and_wait(kb, ids, project, outcome="FAILURE")
        assert status["failed_regions"] == ["RegionThree"]
        assert "RegionThree" in status["reason"]
        for region in ("RegionOne", "RegionTwo"):
            assert nova_limits(cloud, region, project)["cores"] == 30, region
        detail = kb.call("GET", f"{path}/detail", token).json()["quota_set"]
        assert "RegionThree" in detail["missing_regions"]
        assert set(detail["regions"]) == {"RegionOne", "RegionTwo"}
    finally:
        assert cloud.sim("POST", "/regions/RegionThree/up").status_code == 200
    sync_now_and_wait(kb, ids, project)
    assert all(nova_limits(cloud, r, project)["cores"] == 12 for r in cloud.regions)


def test_under_classic_regions_booting_at_once_exceed_the_global_limit(kb, ids, cloud):
    name = f"classic-{uuid.uuid4().hex[:8]}"
    prov = cloud.provisioner()
    project = prov.ensure_project(name)
    prov.ensure_user(f"{name}-user", "classic-secret", name, role="member")
    creds = Credentials(cloud.admin_creds.auth_url, f"{name}-user", "classic-secret", name)
    kb.call("PUT", f"/v1.1/os-quota-sets/{project}", ids["admin_token"],
            json={"quota_set": {"instances": 4, "cores": 40}})
    sync_now_and_wait(kb, ids, project)

    def boot_many(region: str) -> int:
        admin = cloud.admin(region)
        image = admin.image.create_image(name=f"{name}-img", data=b"c" * 64, disk_format="raw",
                                         container_format="bare", visibility="public")
        conn = cloud._connection(creds, region)
        tiny = next(f.id for f in conn.compute.flavors() if f.name == "m1.tiny")
        body = {"server": {"name": "c", "imageRef": image.id, "flavorRef": tiny,
                           "networks": "none"}}
        return sum(conn.compute.post("/servers", json=body, microversion="2.37",
                                     raise_exc=False).status_code == 202 for _ in range(6))

    with cf.ThreadPoolExecutor(len(cloud.regions)) as pool:
        admitted = sum(pool.map(boot_many, cloud.regions))
    assert admitted > 4  # each region was handed the whole headroom of 4
