"""A token that has expired is refused with 401, like no token at all.

A Keystone node of its own issues tokens that live 4 seconds, and a
``kingbird-api`` process validates against it; the demo's Keystone keeps its
usual lifetime.
"""

from __future__ import annotations

import subprocess
import sys
import time

import requests
from kb_http import wait_for
from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3

from kingbird.demo.keystone import KeystoneNode
from regionsim.topology import free_port

LIFETIME = 4


def test_an_expired_token_gets_401_and_a_fresh_one_works(tmp_path):
    node = KeystoneNode(tmp_path / "keystone", token_expiration=LIFETIME)
    node.start()
    api = None
    try:
        creds = node.admin_credentials()
        port = free_port()
        auth = "\n".join(f"{k} = {v}" for k, v in creds.items())
        conf = tmp_path / "kingbird.conf"
        conf.write_text(f"""[DEFAULT]
state_dir = {tmp_path}
[api]
bind_host = 127.0.0.1
bind_port = {port}
[keystone_authtoken]
www_authenticate_uri = {node.auth_url}
auth_type = password
{auth}
[service_credentials]
auth_type = password
{auth}
""")
        subprocess.run([sys.executable, "-m", "kingbird.cmd.manage", "--config-file", str(conf),
                        "db", "upgrade"], check=True, capture_output=True)
        api = subprocess.Popen([sys.executable, "-m", "kingbird.cmd.api", "--config-file",
                                str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        root = f"http://127.0.0.1:{port}"
        wait_for(lambda: _answers(root), timeout=60, what="kingbird-api to serve")

        def new_token() -> tuple[str, str]:
            sess = ks_session.Session(auth=v3.Password(**creds))
            return sess.get_token(), sess.get_project_id()

        token, project = new_token()
        path = f"{root}/v1.0/{project}/os-quota-sets/defaults"
        assert requests.get(path, headers={"X-Auth-Token": token}, timeout=30).status_code == 200
        time.sleep(LIFETIME + 1)
        answer = requests.get(path, headers={"X-Auth-Token": token}, timeout=30)
        assert answer.status_code == 401
        assert answer.json()["error"]["code"] == 401
        fresh, _ = new_token()
        assert requests.get(path, headers={"X-Auth-Token": fresh}, timeout=30).status_code == 200
    finally:
        if api is not None:
            api.terminate()
            api.wait(30)
        node.stop()


def _answers(root: str) -> bool:
    try:
        return requests.get(root + "/", timeout=2).status_code == 200
    except requests.ConnectionError:
        return False
