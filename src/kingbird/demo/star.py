"""The star identity topology on one machine: ``kingbird-demo --identity star``.

What the user guide's "Distributed KeyStone service with Fernet token + Async
replication (star-mode)" describes, for real:

- a PostgreSQL primary holds the identity database at the master site (the
  first region) and a streaming standby replicates it into every other region;
- Keystone A serves the master region from the primary (reads and writes);
  each other region has its own Keystone on its standby, read-only (writes are
  refused with a 403 naming the master, :mod:`kingbird.identity.readonly`);
- each region's regionsim services validate tokens with their own region's
  Keystone, so no validation crosses sites;
- Kingbird holds the Fernet keys (taken over from Keystone A's repository on
  first start), every Keystone is registered as a node bound to its own agent
  user, and a ``kingbird-keystone-agent`` beside every Keystone keeps that
  node's repository in step (as in the single-Keystone demo,
  :mod:`kingbird.demo.stack`).

Every Keystone runs with token caching off, so that each validation really
decrypts the token with the node's keys, and replicas with revocation caching
off, so that revocations written at the master are seen at once.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from kingbird.demo.keystone import KeystoneNode
from kingbird.demo.pgcluster import PgCluster, PgInstance
from kingbird.demo.stack import KINGBIRD_SERVICE_TYPE, Stack, StackSettings, node_name
from kingbird.identity import repository

KEYSTONE_DATABASE = "keystone"


@dataclass
class StarSettings(StackSettings):
    """The demo's settings plus the star's own."""

    regions: int = 2
    replica_nodes: int = 1  # Keystone nodes per replica region (the guide: 2 or more)
    regionsim: bool = True
    agent_interval: float = 2.0
    node_timeout: int = 15
    token_expiration: int = 3600
    allow_expired_window: int = 172800
    retention_margin: int = 60


class StarStack(Stack):
    """The demo stack with the star identity topology (see the module docstring).

    ``nodes`` holds every Keystone by node name (``self.keystone`` is the
    master's); tests stop and start parts through the methods at the end.
    """

    def __init__(self, settings: StarSettings):
        super().__init__(settings)
        self.settings: StarSettings = settings
        self.replica_regions = self.region_names[1:]
        self.cluster: PgCluster | None = None

    # -- identity databases and Keystone nodes ---------------------------------------

    def _keystone_overrides(self, replica: bool) -> dict[str, dict[str, object]]:
        overrides: dict[str, dict[str, object]] = {"token": {
            "caching": "false", "allow_expired_window": self.settings.allow_expired_window}}
        if replica:
            overrides["revoke"] = {"caching": "false"}
        return overrides

    def _node_url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.state.port(name)}/v3"

    def start_keystone(self) -> None:
        """The primary database and Keystone A (the master region's)."""
        self.cluster = PgCluster(self.state_dir / "postgresql", self.state.port("pg-primary"))
        self.cluster.start_primary()
        url = self.cluster.create_database(KEYSTONE_DATABASE)
        name = node_name(self.master_region)
        self.keystone = KeystoneNode(
            self.state_dir / "keystone", port=self.state.port(name), database_url=url,
            region=self.master_region, token_expiration=self.settings.token_expiration,
            config_overrides=self._keystone_overrides(replica=False))
        self.nodes[name] = self.keystone
        self.keystone.start()

    def node_regions(self) -> dict[str, str]:
        return {**super().node_regions(),
                **{node_name(region, index): region for region in self.replica_regions
                   for index in range(self.settings.replica_nodes)}}

    def provision_identity(self) -> None:
        super().provision_identity()
        prov = self.keystone.provisioner()
        # Clients scoped to a replica region find its own Keystone in the catalog.
        for region in self.replica_regions:
            prov.ensure_endpoint("identity", region, self._node_url(node_name(region)),
                                 service_name="keystone")

    def start_replicas(self) -> None:
        """A standby per replica region and its Keystone node(s), read-only."""
        for region in self.replica_regions:
            standby = self.cluster.add_standby(region, self.state.port(f"pg-{region}"))
            self.cluster.wait_replayed()
            for index in range(self.settings.replica_nodes):
                self._start_replica_node(region, index, standby)

    def _start_replica_node(self, region: str, index: int, standby: PgInstance) -> None:
        name = node_name(region, index)
        state_dir = self.state_dir / name
        master = self.keystone
        # First start only: the master's keys, so that the node validates the
        # master's tokens before its agent ever ran. Later the agent keeps them.
        for repo in ("fernet-keys", "credential-keys", "receipt-keys"):
            target = state_dir / repo
            if not repository.read_repository(target):
                shutil.copytree(master.state_dir / repo, target, dirs_exist_ok=True)
        node = KeystoneNode(
            state_dir, port=self.state.port(name), database_url=standby.url(KEYSTONE_DATABASE),
            region=region, token_expiration=self.settings.token_expiration,
            read_only_master=master.auth_url,
            config_overrides=self._keystone_overrides(replica=True))
        self.nodes[name] = node
        node.start()

    def region_keystone(self, region: str) -> KeystoneNode:
        """The Keystone a region's services validate tokens with."""
        return self.nodes[node_name(region)]

    # -- regionsim and Kingbird ------------------------------------------------------

    def regionsim_region(self, region: str) -> str:
        """``NAME=PORT@KEYSTONE``: every region validates tokens at its own Keystone."""
        return f"{super().regionsim_region(region)}@{self.region_keystone(region).auth_url}"

    def register_endpoints(self) -> None:
        if self.sim_endpoints:
            super().register_endpoints()
            return
        prov = self.keystone.provisioner()
        for region in self.region_names:
            prov.ensure_endpoint(KINGBIRD_SERVICE_TYPE, region, self.kingbird_url,
                                 service_name="kingbird")

    def fernet_options(self) -> dict[str, object]:
        return {**super().fernet_options(),
                "token_expiration": self.settings.token_expiration,
                "allow_expired_window": self.settings.allow_expired_window,
                "retention_margin": self.settings.retention_margin}

    def write_kingbird_conf(self) -> Path:
        path = super().write_kingbird_conf()
        replicas = ",".join(f"{region}:{self.cluster.standbys[region].url(KEYSTONE_DATABASE)}"
                            for region in self.replica_regions)
        with open(path, "a") as conf:
            # region_name: Kingbird, at the master site, validates tokens there.
            conf.write(f"""
[keystone_authtoken]
region_name = {self.master_region}

[multisite_identity]
master_region = {self.master_region}
master_database = {self.cluster.primary.url(KEYSTONE_DATABASE)}
replica_databases = {replicas}
""")
        return path

    # -- whole stack -----------------------------------------------------------------

    def start(self) -> None:
        self.state.port("kingbird-api", self.settings.api_port)
        self.start_keystone()
        self.provision_identity()
        self.start_replicas()
        if self.settings.regionsim:
            self.start_regionsim()
        self.register_endpoints()
        self.cluster.wait_replayed()
        conf_path = self.write_kingbird_conf()
        self.write_client_files()
        self.state.save(self.state_file)
        self.start_kingbird(conf_path)
        self.start_key_management()

    def stop(self) -> None:
        super().stop()
        for node in self.nodes.values():
            if node is not self.keystone:
                node.stop()
        if self.cluster is not None:
            self.cluster.stop()

    # -- failures (tests and benchmarks) ---------------------------------------------

    def fail_master_site(self) -> None:
        """Keystone A and the primary database go down (the primary as if it crashed)."""
        self.stop_agent(node_name(self.master_region))
        self.keystone.stop()
        self.cluster.primary.stop(immediate=True)

    def restore_master_site(self) -> None:
        """The primary and Keystone A come back; the standbys reconnect by themselves."""
        self.cluster.primary.start()
        self.keystone.start()
        self.start_agent(node_name(self.master_region))

    def summary(self) -> dict:
        summary = super().summary()
        summary["identity"] = "star"
        summary["identity_databases"] = {
            self.master_region: self.cluster.primary.url(KEYSTONE_DATABASE),
            **{region: standby.url(KEYSTONE_DATABASE)
               for region, standby in self.cluster.standbys.items()}}
        return summary


def what_to_try(summary: dict) -> str:
    """The star topology's part of the demo's welcome text."""
    nodes = "\n".join(f"  {name:<24} {info['url']}  {info['region']}"
                      f"{'  (read-only replica)' if info['read_only'] else ''}"
                      for name, info in summary["keystone_nodes"].items())
    return f"""Star identity: the master region is {summary['master_region']}.

{nodes}
"""
