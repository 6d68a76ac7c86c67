"""The demo cloud as an OpenStack user finds it: every region reachable through the
Keystone catalog with openstacksdk, quotas enforced like the real services, and the
README's multisite identity commands working (Kingbird manages Keystone's Fernet keys)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

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
    """Kingbird owns the regional limits (it syncs every project), so the quota is set
    the way an operator would: a global limit, synced to every region."""
    from kb_http import KingbirdHTTP, wait_for

    name = f"demo-q-{uuid.uuid4().hex[:6]}"
    project = cloud.provisioner().ensure_project(name)
    cloud.provisioner().ensure_user(f"{name}-user", "demo-q-secret", name, role="member")
    from demo_support import Credentials

    creds = Credentials(cloud.admin_creds.auth_url, f"{name}-user", "demo-q-secret", name)
    conn = cloud._connection(creds, "RegionTwo")
    admin = cloud.admin("RegionTwo")
    image = admin.image.create_image(name="q-img", data=b"q" * 64, disk_format="raw",
                                     container_format="bare", visibility="public")
    tiny = next(f for f in conn.compute.flavors() if f.name == "m1.tiny")
    body = {"server": {"name": "q", "imageRef": image.id, "flavorRef": tiny.id,
                       "networks": "none"}}

    # Under the default limits RegionTwo has room: a server boots.
    answer = conn.compute.post("/servers", json=body, microversion="2.37")
    assert answer.status_code == 202, answer.text

    # A global limit of 1 instance, already used: every region's limit is its usage.
    kb = KingbirdHTTP(cloud.kingbird_root)
    assert kb.call("PUT", f"/v1.1/os-quota-sets/{project}", cloud.admin_token(),
                   json={"quota_set": {"instances": 1}}).status_code == 200

    def limit_reached():
        quota = admin.compute.get(f"/os-quota-sets/{project}").json()["quota_set"]
        return quota["instances"] == 1

    wait_for(limit_reached, timeout=30, what="the global limit synced to RegionTwo")
    answer = conn.compute.post("/servers", json=body, microversion="2.37", raise_exc=False)
    assert answer.status_code == 403
    assert answer.json()["forbidden"]["message"] == (
        "Quota exceeded for instances: Requested 1, but already used 1 of 1 instances")
    with pytest.raises(sdk_exc.HttpException):
        conn.compute.create_server(name="q3", image_id=image.id, flavor_id=tiny.id,
                                   networks="none")


README = Path(__file__).resolve().parents[2] / "README.md"


def readme_demo_identity_commands() -> str:
    """The shell block of the README's "Multisite identity" section run in the demo."""
    text = README.read_text()
    section = text[text.index("\n## Multisite identity\n"):]
    section = section[section.index("The demo (`make run`) runs this"):]
    start = section.index("```\n") + len("```\n")
    return section[start:section.index("```", start)]


def test_the_readme_s_multisite_identity_commands_work_in_the_demo(cloud):
    """Verbatim, with the test stack's state directory, port and virtualenv; every curl
    must answer 2xx (not the 503 of a Kingbird without Fernet key management)."""
    state_dir = cloud.summary["state_dir"]
    port = re.search(r":(\d+)$", cloud.kingbird_root).group(1)
    script = (readme_demo_identity_commands().replace(".demo/", f"{state_dir}/")
              .replace(":8118", f":{port}").replace(".venv/bin/",
                                                    f"{Path(sys.executable).parent}/"))
    prelude = 'set -euo pipefail\ncurl() { command curl --fail-with-body "$@"; echo; }\n'
    done = subprocess.run(["bash", "-c", prelude + script], capture_output=True, text=True,
                          timeout=120, env=dict(os.environ), check=False)
    assert done.returncode == 0, f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    out = done.stdout
    assert '"fernet_keys"' in out and '"rotation"' in out and '"multisite_identity"' in out
    assert "kingbird_fernet_keyset_version" in out
    assert '"node": "keystone-b"' in out and '"written": true' in out
    assert '{"deleted":"keystone-b"}' in out.replace(" ", "")
    assert "keystone-RegionOne" in out
