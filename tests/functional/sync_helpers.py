"""Helpers of the resource sync tests: the os-sync API over HTTP, waiting for jobs,
and the fixtures the test modules share (imported by name into each module, so
each module gets its own tenant)."""

from __future__ import annotations

import re
import secrets
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import openstack.connection
import pytest
from demo_support import Cloud, Credentials
from kb_http import KingbirdHTTP, wait_for

GUIDE = Path(__file__).resolve().parents[2] / "docs/userguide/multisite.kingbird.usage.rst"

FINAL = ("SUCCESS", "FAILURE")
SOURCE, TWO, THREE = "RegionOne", "RegionTwo", "RegionThree"
TARGETS = [TWO, THREE]


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


class SyncAPI:
    """``os-sync`` as a tenant sees it: ``/v1.0/{tenant}/os-sync...``."""

    def __init__(self, kb: KingbirdHTTP, token: str, tenant: str):
        self.kb = kb
        self.token = token
        self.tenant = tenant

    @property
    def base(self) -> str:
        return f"/v1.0/{self.tenant}/os-sync"

    def create(self, resource_set: dict | None = None, *, body=None, data=None):
        payload = {"resource_set": resource_set} if body is None else body
        if data is not None:
            return self.kb.call("POST", self.base, self.token, data=data)
        return self.kb.call("POST", self.base, self.token, json=payload)

    def start(self, resource_set: dict) -> str:
        """Create a job that must be accepted; its id."""
        answer = self.create(resource_set)
        assert answer.status_code == 200, answer.text
        status = answer.json()["job_status"]
        assert status["status"] == "IN_PROGRESS" and status["created_at"]
        return status["id"]

    def jobs(self, active: bool = False) -> list[dict]:
        answer = self.kb.call("GET", self.base + ("/active" if active else "/"), self.token)
        assert answer.status_code == 200, answer.text
        return answer.json()["job_set"]

    def entries(self, job_id: str) -> list[dict]:
        answer = self.kb.call("GET", f"{self.base}/{job_id}", self.token)
        assert answer.status_code == 200, answer.text
        return answer.json()["job_set"]

    def delete(self, job_id: str):
        return self.kb.call("DELETE", f"{self.base}/{job_id}", self.token)

    def wait(self, job_id: str, timeout: float = 60) -> list[dict]:
        """The job's entries once every one is finished."""
        deadline = time.monotonic() + timeout
        while True:
            entries = self.entries(job_id)
            if all(e["sync_status"] in FINAL for e in entries):
                return entries
            if time.monotonic() > deadline:
                raise AssertionError(f"job {job_id} still running after {timeout}s: {entries}")
            time.sleep(0.2)

    def run(self, resource_set: dict, timeout: float = 60) -> list[dict]:
        return self.wait(self.start(resource_set), timeout)

    def job_status(self, job_id: str) -> str:
        (job,) = [j for j in self.jobs() if j["id"] == job_id]
        return job["sync_status"]


def by_target(entries: list[dict]) -> dict[str, dict]:
    return {e["target_region"]: e for e in entries}


def outcomes(entries: list[dict]) -> dict[tuple[str, str], str]:
    return {(e["resource"], e["target_region"]): e["sync_status"] for e in entries}


def curl_commands(section: str) -> list[str]:
    """The curl lines of a section of the user guide, each joined into one line."""
    text = GUIDE.read_text()
    start = text.index(section + "\n")
    following = re.search(r"\n\S[^\n]*\n-{3,}\n", text[start + len(section) + 1:])
    body = text[start:start + len(section) + 1 + following.start()] if following \
        else text[start:]
    commands, current = [], None
    for line in body.splitlines():
        stripped = line.strip()
        if stripped.startswith("curl"):
            current = [stripped]
        elif current is not None:
            current.append(stripped)
        if current is not None and not stripped.endswith("\\"):
            commands.append(" ".join(part.rstrip("\\").strip() for part in current))
            current = None
    return commands


# --- fixtures ------------------------------------------------------------------------


@dataclass
class Tenant:
    """A project and member user of one test module alone, with room in its quotas."""

    creds: Credentials
    project_id: str
    cloud: Cloud

    def token(self) -> str:
        return self.cloud.session_for(self.creds).get_token()

    def conn(self, region: str) -> openstack.connection.Connection:
        return openstack.connection.Connection(
            session=self.cloud.session_for(self.creds), region_name=region,
            interface="public")


@pytest.fixture(scope="module")
def kb(cloud) -> KingbirdHTTP:
    return KingbirdHTTP(cloud.kingbird_root)


@pytest.fixture(scope="module")
def tenant(cloud, kb) -> Tenant:
    name, password = unique("synctest"), secrets.token_urlsafe(16)
    cloud.provisioner().ensure_user(name, password, name, role="member")
    project_id = cloud.project_id(name)
    # Global limits span all regions: copies count in every target.
    limits = {"security_group": 60, "security_group_rule": 600}
    answer = kb.call("PUT", f"/v1.1/os-quota-sets/{project_id}", cloud.admin_token(),
                     json={"quota_set": limits})
    assert answer.status_code == 200, answer.text

    def synced():
        # The sync the PUT asked for is done (not only one that began before it).
        detail = kb.call("GET", f"/v1.1/os-quota-sets/{project_id}/detail",
                         cloud.admin_token()).json()["quota_set"]
        status = detail.get("last_sync") or {}
        if status.get("requested_at") or status.get("lease_owner") \
                or status.get("outcome") != "SUCCESS":
            return False
        return all(cloud.admin(r).network.get_quota(project_id).security_groups >= 20
                   for r in cloud.regions)

    wait_for(synced, timeout=60, what="regional security group quotas")
    return Tenant(Credentials(cloud.admin_creds.auth_url, name, password, name), project_id,
                  cloud)


@pytest.fixture(scope="module")
def admin_id(cloud) -> str:
    return cloud.project_id("admin")


@pytest.fixture
def member_sync(kb, tenant) -> SyncAPI:
    return SyncAPI(kb, tenant.token(), tenant.project_id)


@pytest.fixture
def admin_sync(kb, cloud, admin_id) -> SyncAPI:
    return SyncAPI(kb, cloud.admin_token(), admin_id)


def keypair_set(names, targets=TARGETS, force=False, source=SOURCE) -> dict:
    return {"resources": list(names), "resource_type": "keypair", "source": source,
            "target": list(targets), "force": force}


@pytest.fixture
def keypair(tenant) -> str:
    """A keypair of the tenant's user in the source region."""
    name = unique("kp")
    tenant.conn(SOURCE).compute.create_keypair(name=name)
    return name
