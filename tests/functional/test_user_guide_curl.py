"""Every curl line of the user guide's quota sections, run verbatim with bash.

The lines are read from ``docs/userguide/multisite.kingbird.usage.rst`` (a copy
of the guide); only the port is changed when the test stack does not listen on
8118, and ``-w`` is appended to read the status code.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

GUIDE = Path(__file__).resolve().parents[2] / "docs/userguide/multisite.kingbird.usage.rst"
QUOTA_SECTIONS = ("Quota Management API", "Quota Class API")


def curl_commands(section: str) -> list[str]:
    text = GUIDE.read_text()
    start = text.index(section + "\n")
    end = text.find("\n---", start + len(section) + 200)
    body = text[start:end if end > 0 else None]
    # the heading after the section is a line of dashes under a title: cut at the title
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


def test_the_guide_has_the_expected_curl_lines():
    assert len(curl_commands("Quota Management API")) == 9
    assert len(curl_commands("Quota Class API")) == 3


@pytest.mark.parametrize("section", QUOTA_SECTIONS)
def test_user_guide_curl_lines_work_verbatim(cloud, section):
    root = cloud.kingbird_root
    port = re.search(r":(\d+)$", root).group(1)
    env = {"kb_token": cloud.admin_token(), "admin_tenant_id": cloud.project_id("admin"),
           "tenant_id": cloud.project_id("demo"), "kb_ip_addr": "127.0.0.1",
           "PATH": "/usr/bin:/bin"}
    for command in curl_commands(section):
        # a tenant reading its own limits uses its own token
        token = cloud.member_token() if "/v1.0/$tenant_id/" in command else env["kb_token"]
        line = command.replace(":8118/", f":{port}/") + " -s -o /dev/null -w '%{http_code}'"
        result = subprocess.run(["bash", "-c", line], env=dict(env, kb_token=token),
                                capture_output=True, text=True, timeout=60)
        assert result.stdout == "200", f"{command}\n-> {result.stdout} {result.stderr}"
