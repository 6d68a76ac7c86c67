"""The whole demo cloud: real Keystone, regionsim, Kingbird API and engine.

Used by ``kingbird-demo`` and (through that command, as a child process) by the
functional tests, so that what the tests exercise is what a user runs.

Kingbird manages Keystone's Fernet keys as in production: a master key is
generated into the state directory, Kingbird takes over Keystone's key
repository on first start, Keystone is registered as a node bound to its own
agent user (role ``kingbird_keystone_agent``), and a ``kingbird-keystone-agent``
keeps its repository in step.

Ports, generated passwords and the master key are kept in the state directory,
so a restart serves the same URLs and the openrc files stay valid. Kingbird's
database and Keystone's survive restarts; regionsim keeps its regions in memory
only.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.fernet import Fernet

from kingbird.core import exceptions
from kingbird.demo import processes, regionsim_launcher
from kingbird.demo.keystone import KeystoneNode
from kingbird.identity import repository

KINGBIRD_SERVICE_TYPE = "synchronization"
DEMO_PROJECT = "demo"
DEMO_USER = "demo"
SERVICE_PROJECT = "service"
# [fernet] agent_role's default: what the agent users hold, and nothing else does.
AGENT_ROLE = "kingbird_keystone_agent"


def node_name(region: str, index: int = 0) -> str:
    """``keystone-RegionOne``, then ``keystone-RegionOne-2``... (Kingbird's node name)."""
    return f"keystone-{region}" + (f"-{index + 1}" if index else "")


def agent_user(node: str) -> str:
    """The Keystone user of the agent of ``node``: one per node, so that a node's
    agent can report for its own node only."""
    return f"{node}-agent"


@dataclass
class StackSettings:
    state_dir: Path
    regions: int = 3
    api_host: str = "127.0.0.1"
    api_port: int = 8118
    sync_interval: int = 60
    engine: bool = True
    allocation: str | None = None  # [quota] allocation; None: the configuration default
    agent_interval: float = 5.0  # seconds between two reports of each agent
    node_timeout: int = 60  # [fernet] node_timeout


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
        self.master_region = self.region_names[0]
        # Every Keystone node by node name; self.keystone is the master region's.
        self.nodes: dict[str, KeystoneNode] = {}
        self.agents: dict[str, subprocess.Popen] = {}
        self.agent_user_ids: dict[str, str] = {}

    # -- parts -------------------------------------------------------------------

    def start_keystone(self) -> None:
        self.keystone = KeystoneNode(self.state_dir / "keystone",
                                     port=self.state.port("keystone"),
                                     region=self.master_region)
        self.nodes[node_name(self.master_region)] = self.keystone
        self.keystone.start()

    def node_regions(self) -> dict[str, str]:
        """Node name -> region of every Keystone node the stack runs."""
        return {node_name(self.master_region): self.master_region}

    def provision_identity(self) -> None:
        prov = self.keystone.provisioner()
        for region in self.region_names:
            prov.ensure_region(region)
        prov.register_identity_everywhere(self.region_names)
        for user in ("kingbird", "regionsim"):
            prov.ensure_user(user, self.state.password(user), SERVICE_PROJECT, role="admin")
        prov.ensure_role("reader")
        prov.ensure_user(DEMO_USER, self.state.password(DEMO_USER), DEMO_PROJECT, role="member")
        for name in self.node_regions():
            user = agent_user(name)
            self.agent_user_ids[name] = prov.ensure_user(
                user, self.state.password(user), SERVICE_PROJECT, role=AGENT_ROLE)

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
        fernet = "\n".join(f"{key} = {value}" for key, value in self.fernet_options().items())
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

[fernet]
{fernet}

[keystone_authtoken]
www_authenticate_uri = {self.keystone.auth_url}
{creds}

[service_credentials]
{creds}
""")
        os.chmod(path, 0o600)
        return path

    def master_key(self) -> str:
        """``[fernet] master_key``: generated on first start, kept in the state directory."""
        return self.state.passwords.setdefault("fernet-master-key",
                                               Fernet.generate_key().decode())

    def fernet_options(self) -> dict[str, object]:
        """Kingbird's ``[fernet]`` options."""
        return {"master_key": self.master_key(), "node_timeout": self.settings.node_timeout}

    def write_client_files(self) -> None:
        auth_url = self.keystone.auth_url
        region = self.region_names[0]
        admin_password = self.keystone.admin_password
        demo_password = self.state.password(DEMO_USER)
        agent = agent_user(node_name(self.master_region))
        files = {
            "admin-openrc": openrc(auth_url, "admin", admin_password, "admin", region),
            "member-openrc": openrc(auth_url, DEMO_USER, demo_password, DEMO_PROJECT, region),
            # the credentials of the master region's Keystone agent
            "agent-openrc": openrc(auth_url, agent, self.state.password(agent),
                                   SERVICE_PROJECT, region),
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

    # -- Fernet keys -----------------------------------------------------------------

    def key_manager(self):
        """Kingbird's key manager, in this process (the demo runs Kingbird here)."""
        from kingbird.identity.keymanager import KeyManager

        return KeyManager.from_conf(self.runtime.conf, self.runtime.db)

    def adopt_master_keys(self) -> None:
        """On first start, Kingbird takes over the master Keystone's key repository."""
        manager = self.key_manager()
        if manager.status()["fernet_keys"]["version"] == 0:
            manager.import_repository(
                repository.read_repository(self.keystone.fernet_key_repository))

    def register_nodes(self) -> None:
        """Register every Keystone node, bound to its agent user, as an admin does with
        ``POST os-fernet-keys/nodes`` (again on every start: changes nothing)."""
        manager = self.key_manager()
        for name, region in self.node_regions().items():
            try:
                manager.register_node(name, region, self.agent_user_ids[name])
            except exceptions.Conflict:  # a state directory from another setup
                manager.forget_node(name)
                manager.register_node(name, region, self.agent_user_ids[name])

    def start_agent(self, name: str) -> None:
        """``kingbird-keystone-agent`` for node ``name``, with its own agent user."""
        node = self.nodes[name]
        user = agent_user(name)
        args = [sys.executable, "-m", "kingbird.cmd.keystone_agent", "--node-name", name,
                "--region", node.region, "--key-repository", str(node.fernet_key_repository),
                "--keystone-url", node.auth_url,
                "--kingbird-url", f"http://127.0.0.1:{self.settings.api_port}",
                "--auth-url", self.keystone.auth_url, "--username", user,
                "--project-name", SERVICE_PROJECT,
                "--interval", str(self.settings.agent_interval),
                "--log-file", str(self.state_dir / f"agent-{name}.log")]
        env = dict(os.environ, KINGBIRD_AGENT_PASSWORD=self.state.password(user))
        self.agents[name] = subprocess.Popen(args, env=env, stdin=subprocess.DEVNULL,
                                             stdout=subprocess.DEVNULL,
                                             stderr=subprocess.DEVNULL)

    def stop_agent(self, name: str) -> None:
        processes.stop(self.agents.pop(name, None))

    def wait_nodes_current(self, names: list[str] | None = None, timeout: float = 60.0) -> dict:
        """Wait until the named nodes (default all) are healthy and hold the current
        key set version.

        :returns: the key set status at that moment.
        :raises TimeoutError: with the nodes still behind.
        """
        wanted = set(names or self.nodes)
        deadline = time.monotonic() + timeout
        while True:
            status = self.key_manager().status()["fernet_keys"]
            behind = {n["name"]: n["problems"] for n in status["nodes"]
                      if n["name"] in wanted and not (n["current"] and n["healthy"])}
            missing = wanted - {n["name"] for n in status["nodes"]}
            if not behind and not missing:
                return status
            if time.monotonic() > deadline:
                raise TimeoutError(f"nodes not at key set version {status['version']} after "
                                   f"{timeout:.0f} s: {behind or sorted(missing)}")
            time.sleep(0.2)

    def start_key_management(self) -> None:
        """Kingbird holds the keys, every node is registered and has its agent."""
        self.adopt_master_keys()
        self.register_nodes()
        for name in self.nodes:
            self.start_agent(name)
        self.wait_nodes_current()

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
        self.start_key_management()

    def stop(self) -> None:
        for name in list(self.agents):
            self.stop_agent(name)
        if self.api_server is not None:
            self.api_server.stop()
        if self.engine is not None:
            self.engine.stop()
        if self.runtime is not None:
            self.runtime.close()
        processes.stop(self.regionsim)
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
            "agent_openrc": str(self.state_dir / "agent-openrc"),
            "kingbird_conf": str(self.state_dir / "kingbird.conf"),
            "master_region": self.master_region,
            "keystone_nodes": {
                name: {"region": node.region, "url": node.auth_url,
                       "read_only": bool(node.read_only_master),
                       "key_repository": str(node.fernet_key_repository),
                       "agent_user": agent_user(name)}
                for name, node in self.nodes.items()},
        }
