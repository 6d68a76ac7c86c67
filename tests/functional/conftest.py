"""Fixtures of the functional tests: the real demo stack, started once per session.

``kingbird-demo`` runs as a child process exactly as a user starts it (real
Keystone, regionsim, Kingbird API and engine); tests reach it over HTTP only.
"""

from __future__ import annotations

import pytest
from demo_support import Cloud, Credentials, _read_openrc, start_demo, stop_demo


@pytest.fixture(scope="session")
def demo_stack(tmp_path_factory):
    state_dir = tmp_path_factory.mktemp("stack") / "demo"
    state_dir.mkdir()
    proc, summary = start_demo(state_dir, "--sync-interval", "3")
    yield summary
    stop_demo(proc)


@pytest.fixture(scope="session")
def cloud(demo_stack) -> Cloud:
    admin = _read_openrc(demo_stack["admin_openrc"])
    member = _read_openrc(demo_stack["member_openrc"])

    def creds(env):
        return Credentials(env["OS_AUTH_URL"], env["OS_USERNAME"], env["OS_PASSWORD"],
                           env["OS_PROJECT_NAME"])

    return Cloud(demo_stack, creds(admin), creds(member))
