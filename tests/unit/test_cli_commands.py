"""The ``kingbird`` commands in-process, over a fake transport: options -> requests,
answers -> output, failures -> one line and an exit status."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from types import SimpleNamespace

import _cli_harness
import pytest
from _fake_kingbird import PROJECT, session_with

from kingbird.cli import clientmanager, osc_plugin
from kingbird.cli.common import CommandError
from kingbird.cli.main import COMMANDS, KingbirdApp
from kingbird.client import Client
from kingbird.quota.keys import QUOTA_KEYS

OTHER = "22222222222222222222222222222222"
BASE = f"/{PROJECT}"
PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"

# The shared fixtures, found by pytest under these names.
transport = _cli_harness.transport
run = _cli_harness.run
restore_logging = _cli_harness.restore_logging


def test_update_maps_the_guides_options_to_the_request_body(run, transport):
    transport.answer("PUT", f"{BASE}/os-quota-sets/{OTHER}", 200,
                     {"quota_set": {"port": 10, "security_groups": 10}})
    status, out, _ = run("quota", "update", OTHER, "--port", "10", "--security_groups", "10",
                         "-f", "json")
    assert status == 0
    assert transport.sent[0].body == {"quota_set": {"port": 10, "security_groups": 10}}
    assert json.loads(out) == {"port": 10, "security_groups": 10}


def test_every_quota_key_is_an_option_of_both_updates(run, transport):
    argv = [arg for n, key in enumerate(QUOTA_KEYS) for arg in (f"--{key}", str(n - 1))]
    expected = {key: n - 1 for n, key in enumerate(QUOTA_KEYS)}
    transport.answer("PUT", f"{BASE}/os-quota-sets/{OTHER}", 200, {"quota_set": expected})
    transport.answer("PUT", f"{BASE}/os-quota-class-sets/default", 200,
                     {"quota_class_set": {"class_name": "default", **expected}})
    assert run("quota", "update", OTHER, *argv)[0] == 0
    assert run("quota-class", "update", *argv, "default")[0] == 0
    assert transport.sent[0].body == {"quota_set": expected}
    assert transport.sent[1].body == {"quota_class_set": expected}


def test_update_without_any_limit_fails_before_sending(run, transport):
    status, _, err = run("quota", "update", OTHER)
    assert status == 1
    assert "give at least one limit" in err
    assert transport.sent == []


def test_a_non_integer_limit_is_a_usage_error(run, transport):
    status, _, err = run("quota", "update", OTHER, "--cores", "many")
    assert status == 2
    assert "invalid int value" in err
    assert transport.sent == []


def test_show_defaults_to_the_callers_project_and_value_prints_one_number(run, transport):
    transport.answer("GET", f"{BASE}/os-quota-sets/{PROJECT}", 200,
                     {"quota_set": {"cores": 20, "ram": 51200}})
    status, out, _ = run("quota", "show", "-f", "value", "-c", "cores")
    assert (status, out) == (0, "20\n")


def test_show_tenant_as_a_table_and_yaml(run, transport):
    transport.answer("GET", f"{BASE}/os-quota-sets/{OTHER}", 200,
                     {"quota_set": {"ram": 51200, "cores": 20}})
    status, out, _ = run("quota", "show", "--tenant", OTHER)
    assert status == 0
    assert out.index("cores") < out.index("ram")  # the guide's order
    assert "| Field" in out
    _, out, _ = run("quota", "show", "--tenant", OTHER, "-f", "yaml")
    assert "cores: 20" in out


def test_detail_shows_limit_usage_and_remaining_and_warns_of_missing_regions(
        run, transport):
    transport.answer("GET", f"{BASE}/os-quota-sets/{PROJECT}/detail", 200, {"quota_set": {
        "limits": {"cores": 20}, "usage": {"cores": 6}, "remaining": {"cores": 14},
        "regions": {}, "missing_regions": {"RegionTwo": "connection refused"},
        "last_sync": None}})
    status, out, err = run("quota", "detail", "-f", "json")
    assert status == 0
    assert json.loads(out) == [{"Quota": "cores", "Limit": 20, "Usage": 6, "Remaining": 14}]
    assert "RegionTwo did not answer (connection refused)" in err


def test_delete_sends_the_keys_given_and_refuses_unknown_ones(run, transport):
    transport.answer("DELETE", f"{BASE}/os-quota-sets/{OTHER}", 200, {"deleted": []})
    assert run("quota", "delete", OTHER, "cores", "ram")[0] == 0
    assert run("quota", "delete", OTHER)[0] == 0
    status, _, err = run("quota", "delete", OTHER, "cpus")
    assert status == 2 and "unknown quota key 'cpus'" in err
    assert [s.body for s in transport.sent] == [{"quota_set": ["cores", "ram"]}, None]


def test_an_api_refusal_is_one_line_with_status_and_message_and_no_traceback(
        run, transport):
    transport.answer("PUT", f"{BASE}/os-quota-sets/{OTHER}", 403, {"error": {
        "code": 403, "title": "Forbidden",
        "message": "policy does not allow kingbird:quota:update"}})
    status, out, err = run("quota", "update", OTHER, "--cores", "5")
    assert status == 1
    assert out == ""
    assert err == "Forbidden (HTTP 403): policy does not allow kingbird:quota:update\n"


def test_a_service_down_is_one_line_too(run, transport):
    transport.refuse = True
    status, _, err = run("quota", "defaults")
    assert status == 1
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert "Connection refused" in err


def test_sync_create_repeats_resources_and_targets(run, transport):
    transport.answer("POST", f"{BASE}/os-sync", 200, {"job_status": {
        "id": "j1", "status": "IN_PROGRESS", "created_at": "c"}})
    status, out, _ = run("sync", "create", "--resource_type", "keypair", "--resources", "a",
                         "--resources", "b", "--source", "RegionOne", "--target",
                         "RegionTwo", "--target", "RegionThree", "-f", "json")
    assert status == 0
    assert transport.sent[0].body == {"resource_set": {
        "resources": ["a", "b"], "resource_type": "keypair", "source": "RegionOne",
        "target": ["RegionTwo", "RegionThree"], "force": False}}
    assert json.loads(out) == {"ID": "j1", "Status": "IN_PROGRESS", "Created At": "c"}


def test_sync_delete_reports_how_many_of_several_failed(run, transport):
    transport.answer("DELETE", f"{BASE}/os-sync/j1", 200, {})
    status, _, err = run("sync", "delete", "j1", "j2")
    assert status == 1
    assert "job j2: Not Found (HTTP 404)" in err
    assert "1 of 2 sync jobs failed to delete" in err


def test_sync_list_and_show_columns(run, transport):
    transport.answer("GET", f"{BASE}/os-sync", 200, {"job_set": [
        {"id": "j1", "sync_status": "SUCCESS", "created_at": "c", "updated_at": "u"}]})
    transport.answer("GET", f"{BASE}/os-sync/j1", 200, {"job_set": [
        {"id": "j1", "resource": "kp1", "source_region": "RegionOne",
         "target_region": "RegionTwo", "resource_type": "keypair", "sync_status": "SUCCESS",
         "created_at": "c", "updated_at": "u"}]})
    _, out, _ = run("sync", "list", "-f", "value")
    assert out == "j1 SUCCESS c u\n"
    _, out, _ = run("sync", "show", "j1", "-f", "value", "-c", "Target Region", "-c", "Status")
    assert out == "RegionTwo SUCCESS\n"


def test_an_unknown_option_is_a_usage_error(run):
    status, _, err = run("quota", "show", "--bogus")
    assert status == 2
    assert "unrecognized arguments: --bogus" in err


def test_an_unknown_command_exits_2(run):
    assert run("quotas", "show")[0] == 2


def test_a_token_needs_the_kingbird_url():
    options = KingbirdApp().parser.parse_args(["--os-token", "t"])
    with pytest.raises(CommandError, match="--kingbird-url"):
        clientmanager.build_client(options)


def test_missing_credentials_name_what_is_missing(monkeypatch, tmp_path):
    for name in [n for n in __import__("os").environ if n.startswith("OS_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(tmp_path / "none.yaml"))
    options = KingbirdApp().parser.parse_args([])
    with pytest.raises(CommandError, match="missing credentials .*--os-auth-url"):
        clientmanager.build_client(options)


def test_os_cloud_reads_region_and_interface_from_clouds_yaml(monkeypatch, tmp_path):
    clouds = tmp_path / "clouds.yaml"
    clouds.write_text("clouds:\n  kb:\n    auth:\n      auth_url: http://ks.test/v3\n"
                      "      username: u\n      password: p\n      project_name: demo\n"
                      "      user_domain_name: Default\n      project_domain_name: Default\n"
                      "    region_name: RegionTwo\n    interface: internal\n")
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(clouds))
    options = KingbirdApp().parser.parse_args(["--os-cloud", "kb"])
    client = clientmanager.build_client(options)
    assert (client.http._region_name, client.http._interface) == ("RegionTwo", "internal")


def test_the_openstack_plugin_builds_the_same_client(transport):
    instance = SimpleNamespace(session=session_with(transport), region_name="RegionOne",
                               interface="public", _cli_options=None)
    client = osc_plugin.make_client(instance)
    assert isinstance(client, Client)
    assert client.http._region_name == "RegionOne"


def test_pyproject_entry_points_match_the_command_table():
    """Once the plugin's entry points are in pyproject.toml, they list these commands."""
    data = tomllib.loads(PYPROJECT.read_text())
    declared = data["project"].get("entry-points", {}).get("openstack.kingbird.v1")
    if declared is None:
        pytest.skip("openstack.kingbird.v1 entry points not declared in pyproject.toml yet")
    expected = {"kingbird_" + name.replace(" ", "_"):
                f"{cls.__module__}:{cls.__qualname__}" for name, cls in COMMANDS.items()}
    assert declared == expected
