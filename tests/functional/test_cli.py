"""The ``kingbird`` command as a user runs it: a subprocess against the demo stack.

Credentials come the three ways users give them: the demo's openrc files (``OS_*``),
its clouds.yaml (``--os-cloud``), a token with ``--kingbird-url``. Every command is
run in each output format it offers, and the expected failures must end with one
line and a non-zero status, never a traceback.

Mutations go to a project and a quota class of this module's own, so that other
modules sharing the demo stack see the defaults unchanged.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid

import pytest
import yaml

from kingbird.quota.keys import QUOTA_KEYS
from regionsim.topology import free_port

pytestmark = pytest.mark.functional

CLI = [sys.executable, "-m", "kingbird.cli.main"]
TEST_CLASS = "cli-tests-gold"


def _openrc(path: str) -> dict[str, str]:
    import shlex

    env = {}
    for line in open(path).read().splitlines():
        if line.startswith("export "):
            key, _, value = line[len("export "):].partition("=")
            env[key] = shlex.split(value)[0] if value else ""
    return env


def _clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without any ``OS_*``/``KINGBIRD_URL``, plus ``extra``."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("OS_") and k not in ("KINGBIRD_URL",)}
    env["CLIFF_MAX_TERM_WIDTH"] = "300"  # tables unwrapped whatever the terminal
    env.update(extra)
    return env


def run(env: dict[str, str], *args: str, check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run([*CLI, *args], env=env, capture_output=True, text=True, timeout=120)
    if check:
        assert proc.returncode == 0, (args, proc.stdout, proc.stderr)
    return proc


def assert_one_line_failure(proc: subprocess.CompletedProcess, *fragments: str) -> None:
    assert proc.returncode != 0, proc.stdout
    assert "Traceback" not in proc.stderr, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


@pytest.fixture(scope="module")
def admin(demo_stack):
    return _clean_env(**_openrc(demo_stack["admin_openrc"]))


@pytest.fixture(scope="module")
def member(demo_stack):
    return _clean_env(**_openrc(demo_stack["member_openrc"]))


@pytest.fixture(scope="module")
def project(cloud):
    """A project of this module's own, whose limits the tests change."""
    return cloud.provisioner().ensure_project("cli-tests")


@pytest.fixture(scope="module")
def demo_project(cloud):
    return cloud.project_id("demo")


# --- quota --------------------------------------------------------------------------


def test_defaults_in_every_format(admin):
    table = run(admin, "quota", "defaults").stdout
    assert "| Field" in table and "| cores" in table
    as_json = json.loads(run(admin, "quota", "defaults", "-f", "json").stdout)
    assert list(as_json) == list(QUOTA_KEYS)
    assert all(isinstance(v, int) for v in as_json.values())
    assert yaml.safe_load(run(admin, "quota", "defaults", "-f", "yaml").stdout) == as_json
    values = run(admin, "quota", "defaults", "-f", "value").stdout.split()
    assert [int(v) for v in values] == list(as_json.values())
    cores = run(admin, "quota", "defaults", "-f", "value", "-c", "cores").stdout
    assert cores == f"{as_json['cores']}\n"
    shell = run(admin, "quota", "defaults", "-f", "shell", "-c", "ram").stdout
    assert shell == f'ram="{as_json["ram"]}"\n'


def test_update_as_in_the_guide_then_show_with_tenant(admin, project):
    out = run(admin, "quota", "update", project, "--port", "10", "--security_groups", "10",
              "-f", "json").stdout
    assert json.loads(out) == {"security_groups": 10, "port": 10}
    shown = json.loads(run(admin, "quota", "show", "--tenant", project, "-f", "json").stdout)
    assert (shown["port"], shown["security_groups"]) == (10, 10)
    assert list(shown) == list(QUOTA_KEYS)


def test_every_quota_option_spelled_as_in_the_guide_reaches_the_server(admin, project):
    argv = [arg for n, key in enumerate(QUOTA_KEYS) for arg in (f"--{key}", str(100 + n))]
    run(admin, "quota", "update", project, *argv)
    shown = json.loads(run(admin, "quota", "show", "--tenant", project, "-f", "json").stdout)
    assert shown == {key: 100 + n for n, key in enumerate(QUOTA_KEYS)}


def test_a_tenant_shows_its_own_limits_without_tenant(member, admin, demo_project):
    own = json.loads(run(member, "quota", "show", "-f", "json").stdout)
    as_admin = json.loads(run(admin, "quota", "show", "--tenant", demo_project,
                              "-f", "json").stdout)
    assert own == as_admin


def test_detail_shows_limit_usage_and_remaining_per_key(admin, project):
    run(admin, "quota", "update", project, "--cores", "20", "--ram", "-1")
    rows = json.loads(run(admin, "quota", "detail", "--tenant", project, "-f", "json").stdout)
    assert [row["Quota"] for row in rows] == list(QUOTA_KEYS)
    by_key = {row["Quota"]: row for row in rows}
    assert by_key["cores"]["Limit"] == 20
    assert by_key["cores"]["Remaining"] == 20 - by_key["cores"]["Usage"]
    assert by_key["ram"]["Limit"] == -1
    table = run(admin, "quota", "detail", "--tenant", project).stdout
    assert "| Quota" in table and "| Usage" in table and "| Remaining" in table
    usage = run(admin, "quota", "detail", "--tenant", project, "-f", "value",
                "-c", "Usage").stdout.split()
    assert len(usage) == len(QUOTA_KEYS)


def test_a_tenant_gets_its_own_total_usage(member):
    rows = json.loads(run(member, "quota", "detail", "-f", "json").stdout)
    assert {row["Quota"] for row in rows} == set(QUOTA_KEYS)
    assert yaml.safe_load(run(member, "quota", "detail", "-f", "yaml").stdout) == rows


def test_on_demand_sync(admin, project):
    proc = run(admin, "quota", "sync", project)
    assert proc.stdout == ""


def test_delete_some_keys_then_all(admin, project):
    defaults = json.loads(run(admin, "quota", "defaults", "-f", "json").stdout)
    run(admin, "quota", "update", project, "--cores", "7", "--ram", "7", "--port", "7")
    run(admin, "quota", "delete", project, "cores", "ram")
    shown = json.loads(run(admin, "quota", "show", "--tenant", project, "-f", "json").stdout)
    assert (shown["cores"], shown["ram"], shown["port"]) == (
        defaults["cores"], defaults["ram"], 7)
    run(admin, "quota", "delete", project)
    assert json.loads(run(admin, "quota", "show", "--tenant", project,
                          "-f", "json").stdout) == defaults


def test_a_member_may_not_update_403_on_one_line(member, demo_project):
    proc = run(member, "quota", "update", demo_project, "--cores", "5", check=False)
    assert_one_line_failure(proc, "HTTP 403", "Forbidden")
    assert proc.returncode == 1


def test_a_member_may_not_sync_nor_delete(member, demo_project):
    for args in (("quota", "sync", demo_project), ("quota", "delete", demo_project)):
        assert_one_line_failure(run(member, *args, check=False), "HTTP 403")


def test_an_unknown_project_answers_404_on_one_line(admin):
    unknown = uuid.uuid4().hex
    proc = run(admin, "quota", "delete", unknown, check=False)
    assert_one_line_failure(proc, "Not Found (HTTP 404)", unknown)


def test_a_malformed_project_id_is_the_apis_400(admin):
    proc = run(admin, "quota", "show", "--tenant", "not a project!", check=False)
    assert_one_line_failure(proc, "HTTP 400", "not a valid project id")


def test_an_out_of_range_limit_is_the_apis_400_naming_the_field(admin, project):
    proc = run(admin, "quota", "update", project, "--cores", "-5", check=False)
    assert_one_line_failure(proc, "HTTP 400", "cores")


def test_usage_errors_exit_2_with_argparses_message(admin, project):
    proc = run(admin, "quota", "show", "--bogus", check=False)
    assert proc.returncode == 2
    assert "unrecognized arguments: --bogus" in proc.stderr
    assert "Traceback" not in proc.stderr
    proc = run(admin, "quota", "update", project, "--cores", "lots", check=False)
    assert proc.returncode == 2 and "invalid int value: 'lots'" in proc.stderr
    proc = run(admin, "quota", "update", check=False)
    assert proc.returncode == 2 and "required" in proc.stderr


def test_help_and_bash_completion_need_no_credentials():
    env = _clean_env()
    out = run(env, "help", "quota", "update").stdout
    assert "--security_group_rule <n>" in out and "--floatingip <n>" in out
    out = run(env, "quota-class", "update", "--help").stdout
    assert "--security_groups <n>" in out
    out = run(env, "--help").stdout
    for command in ("quota defaults", "quota-class show", "sync template", "sync list"):
        assert command in out
    script = run(env, "complete").stdout
    assert "_kingbird()" in script and "cmds_quota='" in script


# --- quota-class --------------------------------------------------------------------


def test_quota_class_update_show_delete_as_in_the_guide(admin):
    out = run(admin, "quota-class", "update", "--port", "10", "--security_groups", "10",
              TEST_CLASS, "-f", "json").stdout
    updated = json.loads(out)  # the whole class as it now stands, every key
    assert updated["class_name"] == TEST_CLASS
    assert updated["security_groups"] == updated["port"] == 10
    shown = json.loads(run(admin, "quota-class", "show", TEST_CLASS, "-f", "json").stdout)
    assert shown == updated
    assert set(shown) == {"class_name", *QUOTA_KEYS}
    assert run(admin, "quota-class", "show", TEST_CLASS, "-f", "value",
               "-c", "security_groups").stdout == "10\n"
    assert "| port" in run(admin, "quota-class", "show", TEST_CLASS).stdout
    run(admin, "quota-class", "delete", TEST_CLASS)
    proc = run(admin, "quota-class", "delete", TEST_CLASS, check=False)
    assert_one_line_failure(proc, "HTTP 404", TEST_CLASS)


def test_the_default_class_shows_the_defaults(admin, member):
    defaults = json.loads(run(admin, "quota", "defaults", "-f", "json").stdout)
    shown = json.loads(run(member, "quota-class", "show", "default", "-f", "json").stdout)
    assert shown == {"class_name": "default", **defaults}


def test_a_member_may_not_change_a_quota_class(member):
    proc = run(member, "quota-class", "update", "--cores", "1", TEST_CLASS, check=False)
    assert_one_line_failure(proc, "HTTP 403")
    proc = run(member, "quota-class", "delete", "default", check=False)
    assert_one_line_failure(proc, "HTTP 403")


# --- authentication -----------------------------------------------------------------


def test_os_cloud_with_the_demos_clouds_yaml(demo_stack, demo_project):
    env = _clean_env(OS_CLIENT_CONFIG_FILE=demo_stack["clouds_yaml"])
    own = json.loads(run(env, "--os-cloud", "kingbird-demo", "quota", "show",
                         "-f", "json").stdout)
    assert list(own) == list(QUOTA_KEYS)
    admin_view = json.loads(run(env, "--os-cloud", "kingbird-admin", "quota", "show",
                                "--tenant", demo_project, "-f", "json").stdout)
    assert admin_view == own
    env["OS_CLOUD"] = "kingbird-demo"  # the variable works as the option does
    assert_one_line_failure(run(env, "quota", "update", demo_project, "--cores", "1",
                                check=False), "HTTP 403")


def test_an_unknown_cloud_is_one_line(demo_stack):
    env = _clean_env(OS_CLIENT_CONFIG_FILE=demo_stack["clouds_yaml"])
    proc = run(env, "--os-cloud", "nowhere", "quota", "defaults", check=False)
    assert_one_line_failure(proc, "nowhere")


def test_token_and_kingbird_url_without_keystone(cloud, demo_stack, project):
    env = _clean_env(OS_TOKEN=cloud.admin_token())
    url = demo_stack["kingbird_url"]
    run(env, "--kingbird-url", url, "quota", "update", project, "--cores", "33")
    shown = json.loads(run(env, "--kingbird-url", url, "quota", "show", "--tenant", project,
                           "-f", "json").stdout)
    assert shown["cores"] == 33
    # With the token's project named, the guide's /v1.0/{tenant}/ routes are used.
    shown = json.loads(run(env, "--kingbird-url", url, "--os-project-id",
                           cloud.project_id("admin"), "quota", "show", "--tenant", project,
                           "-f", "json").stdout)
    assert shown["cores"] == 33
    proc = run(env, "--kingbird-url", url, "quota", "show", check=False)
    assert_one_line_failure(proc, "project of the token is unknown")


def test_a_member_token_is_refused_updates_too(cloud, demo_stack, demo_project):
    proc = run(_clean_env(), "--os-token", cloud.member_token(), "--kingbird-url",
               demo_stack["kingbird_url"], "quota", "update", demo_project, "--cores", "1",
               check=False)
    assert_one_line_failure(proc, "HTTP 403")


def test_a_bad_token_is_401_on_one_line(demo_stack):
    proc = run(_clean_env(), "--os-token", "not-a-token", "--kingbird-url",
               demo_stack["kingbird_url"], "quota", "defaults", check=False)
    assert_one_line_failure(proc, "HTTP 401")


def test_a_wrong_password_is_keystones_401_on_one_line(admin):
    env = dict(admin, OS_PASSWORD="wrong")
    assert_one_line_failure(run(env, "quota", "defaults", check=False), "HTTP 401")


def test_no_credentials_at_all_says_what_is_missing(tmp_path):
    env = _clean_env(OS_CLIENT_CONFIG_FILE=str(tmp_path / "none.yaml"))
    assert_one_line_failure(run(env, "quota", "defaults", check=False),
                            "missing credentials", "--os-auth-url")


def test_kingbird_down_is_one_line(cloud):
    url = f"http://127.0.0.1:{free_port()}/v1.0"
    proc = run(_clean_env(OS_TOKEN=cloud.admin_token()), "--kingbird-url", url,
               "quota", "defaults", check=False)
    assert_one_line_failure(proc, "127.0.0.1")


def test_the_catalog_endpoint_is_the_one_used_by_default(admin, demo_stack):
    """With openrc credentials only, the CLI found Kingbird in the catalog; a wrong
    --kingbird-url then shows that the option takes precedence."""
    assert run(admin, "quota", "defaults").returncode == 0
    url = f"http://127.0.0.1:{free_port()}/v1.0"
    assert_one_line_failure(run(admin, "--kingbird-url", url, "quota", "defaults",
                                check=False), "127.0.0.1")


# --- sync (needs the os-sync API of the resource sync issue) ---------------------------


def _wait_for_job(env, job_id: str, timeout: float = 60) -> list[dict]:
    deadline = time.monotonic() + timeout
    while True:
        entries = json.loads(run(env, "sync", "show", job_id, "-f", "json").stdout)
        if all(e["Status"] != "IN_PROGRESS" for e in entries) or time.monotonic() > deadline:
            return entries
        time.sleep(0.5)


@pytest.fixture(scope="module")
def keypair(cloud):
    name = f"cli-kp-{uuid.uuid4().hex[:8]}"
    source = cloud.regions[0]
    cloud.member(source).compute.create_keypair(name=name)
    return name


class TestSyncCommands:
    """``kingbird sync ...`` against the os-sync API."""

    def test_create_show_list_delete(self, member, cloud, keypair):
        source, *targets = cloud.regions
        out = run(member, "sync", "create", "--resource_type", "keypair", "--resources",
                  keypair, "--source", source, *[a for t in targets for a in ("--target", t)],
                  "-f", "json").stdout
        job = json.loads(out)
        assert set(job) == {"ID", "Status", "Created At"}
        entries = _wait_for_job(member, job["ID"])
        assert sorted(e["Target Region"] for e in entries) == sorted(targets)
        assert {e["Status"] for e in entries} == {"SUCCESS"}, entries
        for target in targets:
            assert cloud.member(target).compute.find_keypair(keypair) is not None
        table = run(member, "sync", "show", job["ID"]).stdout
        assert "| Resource " in table and keypair in table
        listed = json.loads(run(member, "sync", "list", "-f", "json").stdout)
        assert job["ID"] in [j["ID"] for j in listed]
        assert set(listed[0]) == {"ID", "Status", "Created At", "Updated At"}
        active = run(member, "sync", "list", "--active", "-f", "value", "-c", "ID").stdout
        assert job["ID"] not in active.split()
        run(member, "sync", "delete", job["ID"])
        proc = run(member, "sync", "show", job["ID"], check=False)
        assert_one_line_failure(proc, "HTTP 404")

    def test_without_force_an_existing_keypair_fails_with_the_reason(self, member, cloud,
                                                                      keypair):
        source, target = cloud.regions[0], cloud.regions[1]
        run(member, "sync", "create", "--resource_type", "keypair", "--resources", keypair,
            "--source", source, "--target", target)  # makes sure it exists in the target
        job = json.loads(run(member, "sync", "create", "--resource_type", "keypair",
                             "--resources", keypair, "--source", source, "--target", target,
                             "-f", "json").stdout)
        [entry] = _wait_for_job(member, job["ID"])
        assert entry["Status"] == "FAILURE" and "already exists" in entry["Error"]
        job = json.loads(run(member, "sync", "create", "--resource_type", "keypair",
                             "--resources", keypair, "--source", source, "--target", target,
                             "--force", "-f", "json").stdout)
        [entry] = _wait_for_job(member, job["ID"])
        assert entry["Status"] == "SUCCESS"

    def test_template_in_yaml_and_json(self, member, cloud, keypair, tmp_path):
        source, target = cloud.regions[0], cloud.regions[-1]
        entry = {"resource_type": "keypair", "resources": [keypair], "source": source,
                 "target": [target], "force": True}
        yaml_file = tmp_path / "sync.yaml"
        yaml_file.write_text(yaml.safe_dump({"Sync": [entry]}))
        json_file = tmp_path / "sync.json"
        json_file.write_text(json.dumps({"Sync": [entry]}))
        for path in (yaml_file, json_file):
            job = json.loads(run(member, "sync", "template", str(path), "-f", "json").stdout)
            [done] = _wait_for_job(member, job["ID"])
            assert (done["Target Region"], done["Status"]) == (target, "SUCCESS")

    def test_a_bad_template_fails_locally_on_one_line(self, member, tmp_path):
        path = tmp_path / "bad.yaml"
        path.write_text("Sync:\n  - resource_type: keypair\n    resources: [kp]\n")
        assert_one_line_failure(run(member, "sync", "template", str(path), check=False),
                                "Sync[1]: 'source' is missing")

    def test_refusals_are_one_line(self, member, cloud):
        source, target = cloud.regions[0], cloud.regions[1]
        proc = run(member, "sync", "create", "--resource_type", "keypair", "--resources",
                   "no-such-keypair", "--source", source, "--target", target, check=False)
        assert_one_line_failure(proc, "HTTP 404", "no-such-keypair")
        proc = run(member, "sync", "create", "--resource_type", "flavor", "--resources",
                   "m1.tiny", "--source", source, "--target", target, check=False)
        assert_one_line_failure(proc, "HTTP 403")
        proc = run(member, "sync", "create", "--resource_type", "keypair", "--resources",
                   "kp", "--source", source, "--target", "NoSuchRegion", check=False)
        assert_one_line_failure(proc, "HTTP 400")
        proc = run(member, "sync", "show", uuid.uuid4().hex, check=False)
        assert_one_line_failure(proc, "HTTP 404")
        proc = run(member, "sync", "create", "--resources", "kp", check=False)
        assert proc.returncode == 2 and "required" in proc.stderr
