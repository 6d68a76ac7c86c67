"""A second start of the demo on the same state directory keeps what Kingbird stored."""

from __future__ import annotations

import json

from demo_support import Cloud, Credentials, _read_openrc, start_demo, stop_demo
from kb_http import KingbirdHTTP


def _cloud(summary: dict) -> Cloud:
    def creds(path):
        env = _read_openrc(path)
        return Credentials(env["OS_AUTH_URL"], env["OS_USERNAME"], env["OS_PASSWORD"],
                           env["OS_PROJECT_NAME"])

    return Cloud(summary, creds(summary["admin_openrc"]), creds(summary["member_openrc"]))


def test_restarted_demo_keeps_limits_users_and_urls(tmp_path):
    state_dir = tmp_path / "demo"
    state_dir.mkdir()
    proc, first = start_demo(state_dir, "--regions", "2")
    try:
        cloud = _cloud(first)
        demo = cloud.project_id("demo")
        kb = KingbirdHTTP(cloud.kingbird_root)
        answer = kb.call("PUT", f"/v1.1/os-quota-sets/{demo}", cloud.admin_token(),
                         json={"quota_set": {"cores": 42}})
        assert answer.status_code == 200
    finally:
        stop_demo(proc)

    proc, second = start_demo(state_dir, "--regions", "2")
    try:
        assert second["keystone_url"] == first["keystone_url"]
        cloud = _cloud(second)
        assert cloud.project_id("demo") == demo
        kb = KingbirdHTTP(cloud.kingbird_root)
        limits = kb.call("GET", f"/v1.1/os-quota-sets/{demo}", cloud.member_token()).json()
        assert limits["quota_set"]["cores"] == 42
        assert json.loads((state_dir / "stack.json").read_text())["ports"]["keystone"]
    finally:
        stop_demo(proc)
