"""Who calls the API in the security tests: a project with a member and a reader,
another project's member, the admin, a revoked token and no token; callers whose
tokens have no project (unscoped, domain-scoped, system-scoped), all from the real
Keystone; and a finder of secrets in logs."""

from __future__ import annotations

import json
import re
import secrets
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from demo_support import Credentials
from kb_http import KingbirdHTTP
from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3

# A Keystone Fernet token (or anything Fernet-encrypted) in a log is a leak.
FERNET_TOKEN = re.compile(r"gAAAAA[A-Za-z0-9_\-=]{40,}")


@dataclass
class People:
    """Projects, users and tokens of one test module."""

    victim: str  # the project the requests are about
    other: str  # another project
    admin_project: str
    tokens: dict[str, str | None]  # caller -> token (None: no token)
    passwords: list[str]


# Callers whose token has no project scope: user name suffix -> (where the role is, role).
UNSCOPED = {"unscoped": (None, None),  # no role anywhere
            "domain": ("domain", "member"), "domain_admin": ("domain", "admin"),
            "system": ("system", "member")}


def _unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
def kb(cloud) -> KingbirdHTTP:
    return KingbirdHTTP(cloud.kingbird_root)


@pytest.fixture(scope="module")
def people(cloud) -> People:
    prov = cloud.provisioner()
    victim, other = _unique("sec-p"), _unique("sec-q")
    password = secrets.token_urlsafe(16)
    users = {"member": (f"{victim}-member", victim, "member"),
             "reader": (f"{victim}-reader", victim, "reader"),
             "other": (f"{other}-member", other, "member")}
    for name, project, role in users.values():
        prov.ensure_user(name, password, project, role=role)
    auth_url = cloud.admin_creds.auth_url
    tokens: dict[str, str | None] = {"admin": cloud.admin_token(), "none": None}
    for caller, (name, project, _) in users.items():
        tokens[caller] = Credentials(auth_url, name, password, project).session().get_token()
    # A token that Keystone no longer accepts (revoked: to Kingbird, as an expired one).
    revoked = Credentials(auth_url, users["member"][0], password, victim).session().get_token()
    answer = requests.delete(auth_url + "/auth/tokens", timeout=30, headers={
        "X-Auth-Token": cloud.admin_token(), "X-Subject-Token": revoked})
    assert answer.status_code == 204, answer.text
    tokens["revoked"] = revoked
    tokens.update(_tokens_without_project(cloud, prov, victim, password))
    return People(victim=cloud.project_id(victim), other=cloud.project_id(other),
                  admin_project=cloud.project_id("admin"), tokens=tokens,
                  passwords=[password])


def _tokens_without_project(cloud, prov, prefix: str, password: str) -> dict[str, str]:
    """Tokens Keystone scopes to no project: unscoped, to the Default domain, to
    the system; and the admin's system-scoped token (``keystone-manage bootstrap``
    gives the admin the admin role on the system)."""
    admin = cloud.session_for(cloud.admin_creds)
    identity = {"service_type": "identity", "interface": "public"}
    auth_url = cloud.admin_creds.auth_url
    tokens = {}
    for caller, (target, role) in UNSCOPED.items():
        name = f"{prefix}-{caller}"
        found = admin.get(f"/users?name={name}&domain_id=default",
                          endpoint_filter=identity).json()["users"]
        user = found[0] if found else admin.post("/users", endpoint_filter=identity, json={
            "user": {"name": name, "password": password, "domain_id": "default",
                     "enabled": True}}).json()["user"]
        if target == "domain":
            admin.put(f"/domains/default/users/{user['id']}/roles/{prov.ensure_role(role)}",
                      endpoint_filter=identity)
        elif target == "system":
            admin.put(f"/system/users/{user['id']}/roles/{prov.ensure_role(role)}",
                      endpoint_filter=identity)
        scope = {"domain": {"domain_id": "default"}, "system": {"system_scope": "all"}}
        tokens[caller] = _token(auth_url, name, password, **scope.get(target, {}))
    tokens["system_admin"] = _token(auth_url, cloud.admin_creds.username,
                                    cloud.admin_creds.password, system_scope="all")
    return tokens


def _token(auth_url: str, username: str, password: str, **scope) -> str:
    auth = v3.Password(auth_url=auth_url, username=username, password=password,
                       user_domain_name="Default", **scope)
    return ks_session.Session(auth=auth, timeout=30).get_token()


def stack_secrets(root: Path) -> list[str]:
    """Every password a stack below ``root`` generated or was given."""
    found: list[str] = []
    for state in root.rglob("stack.json"):
        found += json.loads(state.read_text()).get("passwords", {}).values()
    for rc in root.rglob("*-openrc"):
        for line in rc.read_text().splitlines():
            if line.startswith("export OS_PASSWORD="):
                found.append(line.split("=", 1)[1].strip().strip("'\""))
    return [s for s in dict.fromkeys(found) if len(s) >= 8]


def leaks(paths: list[Path], secret_values: list[str]) -> list[str]:
    """``file: what`` for each secret (or token-looking string) found in the files."""
    found = []
    for path in paths:
        text = path.read_text(errors="replace")
        for value in secret_values:
            if value and value in text:
                found.append(f"{path}: secret {value[:4]}...")
        for match in FERNET_TOKEN.finditer(text):
            found.append(f"{path}: token {match.group(0)[:12]}...")
    return found
