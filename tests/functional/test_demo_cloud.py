"""The demo cloud as an OpenStack user finds it: every region reachable through the
Keystone catalog with openstacksdk, quotas enforced like the real services."""

from __future__ import annotations

import uuid

import pytest
from openstack import exceptions as sdk_exc


@pytest.mark.parametrize("region", ["RegionOne", "RegionTwo", "RegionThree"])
def test_openstacksdk_lists_every_service_in_every_region(cloud, region):
    conn = cloud.admin(region)
    project = cloud.project_id("demo")
    assert any(f.name == "m1.tiny" for f in conn.compute.flavors())
    assert isinstance(list(conn.compute.keypairs()), list)
    assert conn.compute.get(f"/os-quota-sets/{project}").json()["quota_set"]["cores"] >= 0
    assert isinstance(list(conn.network.networks()), list)
    assert isinstance(list(conn.block_storage.volumes()), list)
    assert isinstance(list(conn.image.images()), list)


def test_every_region_has_kingbird_and_identity_in_its_catalog(cloud):
    sess = cloud.session_for(cloud.member_creds)
    for region in cloud.regions:
        url = sess.get_endpoint(service_type="synchronization", region_name=region,
                                interface="public")
        assert url == cloud.summary["kingbird_url"]
        assert sess.get_endpoint(service_type="identity", region_name=region,
                                 interface="public")


def test_servers_past_the_nova_quota_are_refused_with_403(cloud):
    project = cloud.provisioner().ensure_project(f"demo-q-{uuid.uuid4().hex[:6]}")
    admin = cloud.admin("RegionTwo")
    admin.compute.put(f"/os-quota-sets/{project}", json={"quota_set": {"instances": 2}})
    cloud.provisioner().ensure_user("demo-q-user", "demo-q-secret",
                                    _project_name(cloud, project), role="member")
    from conftest import Credentials

    creds = Credentials(cloud.admin_creds.auth_url, "demo-q-user", "demo-q-secret",
                        _project_name(cloud, project))
    conn = cloud._connection(creds, "RegionTwo")
    image = admin.image.create_image(name="q-img", data=b"q" * 64, disk_format="raw",
                                     container_format="bare", visibility="public")
    tiny = next(f for f in conn.compute.flavors() if f.name == "m1.tiny")
    body = {"server": {"name": "q", "imageRef": image.id, "flavorRef": tiny.id,
                       "networks": "none"}}
    for _ in range(2):
        answer = conn.compute.post("/servers", json=body, microversion="2.37")
        assert answer.status_code == 202, answer.text
    answer = conn.compute.post("/servers", json=body, microversion="2.37", raise_exc=False)
    assert answer.status_code == 403
    assert "Quota exceeded for instances" in answer.json()["forbidden"]["message"]
    with pytest.raises(sdk_exc.HttpException):
        conn.compute.create_server(name="q3", image_id=image.id, flavor_id=tiny.id,
                                   networks="none")


def _project_name(cloud, project_id: str) -> str:
    sess = cloud.session_for(cloud.admin_creds)
    return sess.get(f"/projects/{project_id}", endpoint_filter={
        "service_type": "identity", "interface": "public"}).json()["project"]["name"]
