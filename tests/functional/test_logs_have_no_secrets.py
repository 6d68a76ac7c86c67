"""No token and no password in any log of the run.

Requests with valid, revoked and malformed tokens and a few failing calls are
made first, so that auth_token, our error paths and the engine all had a chance
to log; then every log file written under this test session's temporary
directory (the demo's Kingbird, regionsim and Keystone logs, and those of any
scale-out stack that ran before) is searched for the passwords of every stack
and user, for the tokens used, and for anything shaped like a Fernet token.
"""

from __future__ import annotations

import pytest
from api_security_support import kb, leaks, people, stack_secrets  # noqa: F401 (fixtures)

pytestmark = pytest.mark.functional


def test_no_token_or_password_appears_in_the_logs(kb, people, cloud,  # noqa: F811
                                                  tmp_path_factory):
    victim = people.victim
    for token in people.tokens.values():
        kb.call("GET", f"/v1.0/{victim}/os-quota-sets/{victim}/detail", token)
        kb.call("POST", f"/v1.0/{victim}/os-sync", token, json={"resource_set": {
            "resources": ["no-such-kp"], "resource_type": "keypair", "source": "RegionOne",
            "target": ["RegionTwo"]}})
    kb.call("GET", f"/v1.1/os-quota-sets/{victim}", "gAAAAABthisisnotarealtoken" + "x" * 60)
    kb.call("PUT", f"/v1.1/os-quota-sets/{victim}/sync", people.tokens["admin"])
    root = tmp_path_factory.getbasetemp()
    logs = [p for p in root.rglob("*") if p.is_file()
            and (p.suffix in (".log", ".out") or p.name.endswith("-demo.out"))]
    assert logs, "no log found"
    assert any(p.name == "kingbird.log" for p in logs)
    secrets = stack_secrets(root) + people.passwords
    secrets += [t for t in people.tokens.values() if t]
    found = leaks(logs, secrets)
    assert not found, "\n".join(found)
