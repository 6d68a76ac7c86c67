"""The whole demo cloud: real Keystone, regionsim, Kingbird API and engine.

Used by ``kingbird-demo`` and (through that command, as a child process) by the
functional tests, so that what the tests exercise is what a user runs.

Ports and generated passwords are kept in the state directory, so a restart
serves the same URLs and the openrc files stay valid. Kingbird's database and
Keystone's survive restarts; regionsim keeps its regions in memory only.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from kingbird.demo import regionsim_launcher
from kingbird.demo.keystone import KeystoneNode

KINGBIRD_SERVICE_TYPE = "synchronization"
DEMO_PROJECT = "demo"
DEMO_USER = "demo"
SERVICE_PROJECT = "service"


@dataclass
class StackSettings:
    state_dir: Path
    regions: int = 3
    api_host: str = "127.0.0.1"
    api_port: int = 8118
    sync_interval: int = 60
    engine: bool = True
    allocation: str | None = None  # [quota] allocation; None: the configuration default


@dataclass
class StackState:
    """What must stay the same from one start to the next."""

    ports: dict[str, int] = field(default_factory=dict)
    passwords: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> StackState:
        if path.exists():
            data = json.loads(path.read_text())
            return cls(ports=data.get("ports", {}), passwords=data.get("passwords", {}))
        return cls()

    def save(self, path: Path) -> None:
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"ports": self.ports, "passwords": self.passwords}, indent=2))
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)

    def port(self, name: str, wanted: int | None = None) -> int:
        """The port remembered for ``name`` if still free, else a new one."""
        if wanted:
            self.ports[name] = wanted
        elif name not in self.ports or not _is_free(self.ports[name]):
            self.ports[name] = regionsim_launcher.free_port()
        return self.ports[name]

    def password(self, name: str) -> str:
        return self.passwords.setdefault(name, secrets.token_urlsafe(18))


def _is_free(port: int) -> bool:
    """Nobody listens on ``port`` (connections of a previous run in TIME_WAIT are fine:
    our servers bind with SO_REUSEADDR too)."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def openrc(auth_url: str, user: str, password: str, project: str, region: str) -> str:
    return "".join(f"export {k}={v}\n" for k, v in {
        "OS_AUTH_URL": auth_url, "OS_IDENTITY_API_VERSION": "3",
        "OS_USERNAME": user, "OS_PASSWORD": password, "OS_PROJECT_NAME": project,
        "OS_USER_DOMAIN_NAME": "Default", "OS_PROJECT_DOMAIN_NAME": "Default",
        "OS_REGION_NAME": region, "OS_INTERFACE": "public",
    }.items())


def demo_tunnel_endpoints(regions: list[str]) -> str:
    """``[networking] tunnel_endpoints`` of the demo: 192.0.2.1, .2, ... by region."""
    return ",".join(f"{region}:192.0.2.{index}" for index, region in enumerate(regions, 1))


def clouds_yaml(auth_url: str, clouds: dict[str, tuple[str, str, str]], region: str) -> str:
    lines = ["clouds:"]
    for name, (user, password, project) in clouds.items():
        lines += [f"  {name}:", "    auth:", f"      auth_url: {auth_url}",
                  f"      username: {user}", f"      password: {password}",
                  f"      project_name: {project}", "      user_domain_name: Default",
                  "      project_domain_name: Default", f"    region_name: {region}",
                  "    interface: public", "    identity_api_version: 3"]
    return "\n".join(lines) + "\n"


class Stack:
    """Starts and stops the parts of the demo cloud in order."""

    def __init__(self, settings: StackSettings):
        self.settings = settings
        self.state_dir = Path(settings.state_dir).resolve()
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.state_file = self.state_dir / "stack.json"
        self.state = StackState.load(self.state_file)
        self.region_names = regionsim_launcher.region_names(settings.regions)
        self.keystone: KeystoneNode | None = None
        self.regionsim: subprocess.Popen | None = None
        self.sim_endpoints: dict = {}
        self.api_server = None
        self.engine = None
        self.runtime = None

    # -- parts -------------------------------------------------------------------

    def start_keystone(self) -> None:
        self.keystone = KeystoneNode(self.state_dir / "keystone",
                                     port=self.state.port("keystone"))
        self.keystone.start()

    def provision_identity(self) -> None:
        prov = self.keystone.provisioner()
        for region in self.region_names:
            prov.ensure_region(region)
        prov.register_identity_everywhere(self.region_names)
        for user in ("kingbird", "regionsim"):
            prov.ensure_user(user, self.state.password(user), SERVICE_PROJECT, role="admin")
        prov.ensure_role("reader")
        prov.ensure_user(DEMO_USER, self.state.password(DEMO_USER), DEMO_PROJECT, role="member")

    def regionsim_region(self, region: str) -> str:
        """regionsim's ``--region`` for ``region``: ``NAME=PORT``, tokens checked at
        the one Keystone."""
        return f"{region}={self.state.port('region-' + region)}"

    def start_regionsim(self) -> None:
        self.regionsim, self.sim_endpoints = regionsim_launcher.launch(
            self.state_dir, keystone_url=self.keystone.auth_url, username="regionsim",
            project=SERVICE_PROJECT, password=self.state.password("regionsim"),
            control_port=self.state.port("regionsim-control"),
            regions=[self.regionsim_region(region) for region in self.region_names])

    def register_endpoints(self) -> None:
        prov = self.keystone.provisioner()
        for region, info in self.sim_endpoints["regions"].items():
            for service_type, service_name, url in info["catalog"]:
                prov.ensure_endpoint(service_type, region, url, service_name=service_name)
            prov.ensure_endpoint(KINGBIRD_SERVICE_TYPE, region, self.kingbird_url,
                                 service_name="kingbird")

    @property
    def kingbird_url(self) -> str:
        return f"http://127.0.0.1:{self.settings.api_port}/v1.0"

    def write_kingbird_conf(self) -> Path:
        path = self.state_dir / "kingbird.conf"
        creds = "\n".join([
            "auth_type = password", f"auth_url = {self.keystone.auth_url}",
            "username = kingbird", f"password = {self.state.password('kingbird')}",
            f"project_name = {SERVICE_PROJECT}", "user_domain_name = Default",
            "project_domain_name = Default"])
        path.write_text(f"""[DEFAULT]
state_dir = {self.state_dir}

[database]
connection = sqlite:///{self.state_dir / 'kingbird.sqlite'}

[api]
bind_host = {self.settings.api_host}
bind_port = {self.settings.api_port}

[quota]
sync_interval = {self.settings.sync_interval}
{f"allocation = {self.settings.allocation}" if self.settings.allocation else ""}

[engine]
poll_interval = 0.5

[networking]
# Documentation addresses: the demo has no real hypervisors behind them.
tunnel_endpoints = {demo_tunnel_endpoints(self.region_names)}
poll_interval = 2

[keystone_authtoken]
www_authenticate_uri = {self.keystone.auth_url}
{creds}

[service_credentials]
{creds}
""")
        os.chmod(path, 0o600)
        return path

    def write_client_files(self) -> None:
        auth_url = self.keystone.auth_url
        region = self.region_names[0]
        admin_password = self.keystone.admin_password
        demo_password = self.state.password(DEMO_USER)
        files = {
            "admin-openrc": openrc(auth_url, "admin", admin_password, "admin", region),
            "member-openrc": openrc(auth_url, DEMO_USER, demo_password, DEMO_PROJECT, region),
            "clouds.yaml": clouds_yaml(auth_url, {
                "kingbird-admin": ("admin", admin_password, "admin"),
                "kingbird-demo": (DEMO_USER, demo_password, DEMO_PROJECT)}, region),
        }
        for name, text in files.items():
            path = self.state_dir / name
            path.write_text(text)
            os.chmod(path, 0o600)

    def start_kingbird(self, conf_path: Path) -> None:
        # Imported here: the API pulls in keystonemiddleware and the whole app.
        from kingbird import config
        from kingbird.cmd.serve import ApiServer
        from kingbird.db import migration
        from kingbird.runtime import build_runtime

        conf = config.load_config(["--config-file", str(conf_path)], prog="kingbird-demo")
        migration.upgrade(config.database_url(conf))
        self.runtime = build_runtime(conf)
        wake = lambda: None  # noqa: E731
        if self.settings.engine:
            self.engine = self.runtime.build_engine()
            self.engine.start()
            wake = self.engine.wake
        app = self.runtime.build_api(wake_engine=wake)
        self.api_server = ApiServer(app, conf.api.bind_host, conf.api.bind_port,
                                    conf.api.threads, conf.api.client_timeout)
        self.api_server.start()

    # -- whole stack ---------------------------------------------------------------

    def start(self) -> None:
        self.state.port("kingbird-api", self.settings.api_port)
        self.start_keystone()
        self.provision_identity()
        self.start_regionsim()
        self.register_endpoints()
        conf_path = self.write_kingbird_conf()
        self.write_client_files()
        self.state.save(self.state_file)
        self.start_kingbird(conf_path)

    def stop(self) -> None:
        if self.api_server is not None:
            self.api_server.stop()
        if self.engine is not None:
            self.engine.stop()
        if self.runtime is not None:
            self.runtime.close()
        regionsim_launcher.stop(self.regionsim)
        if self.keystone is not None:
            self.keystone.stop()

    def summary(self) -> dict:
        """What a client needs: URLs and files (the ready file of the demo)."""
        return {
            "keystone_url": self.keystone.auth_url,
            "kingbird_url": self.kingbird_url,
            "regions": self.region_names,
            "regionsim_control_url": self.sim_endpoints.get("control_url"),
            "state_dir": str(self.state_dir),
            "admin_openrc": str(self.state_dir / "admin-openrc"),
            "member_openrc": str(self.state_dir / "member-openrc"),
            "clouds_yaml": str(self.state_dir / "clouds.yaml"),
            "kingbird_conf": str(self.state_dir / "kingbird.conf"),
        }
