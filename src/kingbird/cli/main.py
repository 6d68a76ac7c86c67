"""The ``kingbird`` command: cliff, like the ``openstack`` command.

Run ``kingbird help`` for the commands, ``kingbird complete`` for bash completion.
"""

from __future__ import annotations

import logging
import sys
from importlib import metadata

from cliff import app, commandmanager

from kingbird.cli import clientmanager
from kingbird.cli.v1 import (
    dr,
    network,
    network_interconnect,
    network_vip,
    quota,
    quota_class,
    sync,
)

# The commands, registered from here rather than from entry points, so that
# ``python -m kingbird.cli.main`` and the installed script see the same set.
COMMANDS = {
    "quota defaults": quota.ShowDefaultQuota,
    "quota show": quota.ShowQuota,
    "quota update": quota.UpdateQuota,
    "quota detail": quota.ShowQuotaDetail,
    "quota sync": quota.SyncQuota,
    "quota delete": quota.DeleteQuota,
    "quota-class show": quota_class.ShowQuotaClass,
    "quota-class update": quota_class.UpdateQuotaClass,
    "quota-class delete": quota_class.DeleteQuotaClass,
    "sync create": sync.CreateSyncJob,
    "sync template": sync.CreateSyncJobFromTemplate,
    "sync list": sync.ListSyncJob,
    "sync show": sync.ShowSyncJob,
    "sync delete": sync.DeleteSyncJob,
    "network create": network.CreateGlobalNetwork,
    "network list": network.ListGlobalNetwork,
    "network show": network.ShowGlobalNetwork,
    "network delete": network.DeleteGlobalNetwork,
    "network port list": network.ListGlobalNetworkPort,
    "network port attach": network.AttachGlobalNetworkPort,
    "network vip create": network_vip.CreateGlobalNetworkVip,
    "network vip list": network_vip.ListGlobalNetworkVip,
    "network vip show": network_vip.ShowGlobalNetworkVip,
    "network vip set": network_vip.SetGlobalNetworkVip,
    "network vip delete": network_vip.DeleteGlobalNetworkVip,
    "network rule create": network_interconnect.CreateGlobalSecurityGroupRule,
    "network rule list": network_interconnect.ListGlobalSecurityGroupRule,
    "network rule show": network_interconnect.ShowGlobalSecurityGroupRule,
    "network rule delete": network_interconnect.DeleteGlobalSecurityGroupRule,
    "network router create": network_interconnect.CreateGlobalRouter,
    "network router list": network_interconnect.ListGlobalRouter,
    "network router show": network_interconnect.ShowGlobalRouter,
    "network router delete": network_interconnect.DeleteGlobalRouter,
    "dr plan create": dr.CreateProtectionPlan,
    "dr plan list": dr.ListProtectionPlan,
    "dr plan show": dr.ShowProtectionPlan,
    "dr plan set": dr.SetProtectionPlan,
    "dr plan delete": dr.DeleteProtectionPlan,
    "dr restore-point create": dr.CreateRestorePoint,
    "dr restore-point list": dr.ListRestorePoint,
    "dr restore-point show": dr.ShowRestorePoint,
    "dr restore-point delete": dr.DeleteRestorePoint,
    "dr failover": dr.FailoverProtectionPlan,
    "dr failback": dr.FailbackProtectionPlan,
    "dr operation list": dr.ListRecoveryOperation,
    "dr operation show": dr.ShowRecoveryOperation,
}

# Libraries whose warnings would add lines to a one-line error; heard from -v on.
_QUIET_LOGGERS = ("keystoneauth", "openstack", "stevedore", "urllib3")


def _version() -> str:
    try:
        return metadata.version("kingbird")
    except metadata.PackageNotFoundError:
        return "unknown"


class KingbirdApp(app.App):
    """The application: global options, the command table, the client on demand."""

    NAME = "kingbird"

    def __init__(self):
        super().__init__(
            description="Command-line client of Kingbird, the multi-region control "
                        "plane for OpenStack.",
            version=_version(),
            command_manager=commandmanager.CommandManager("kingbird.cli"),
            deferred_help=True)
        for name, command in COMMANDS.items():
            self.command_manager.add_command(name, command)
        self.client_manager: clientmanager.ClientManager | None = None

    def build_option_parser(self, description, version, argparse_kwargs=None):
        argparse_kwargs = {"prog": self.NAME, **(argparse_kwargs or {})}
        parser = super().build_option_parser(description, version, argparse_kwargs)
        clientmanager.add_options(parser)
        return parser

    def configure_logging(self):
        super().configure_logging()
        if self.options.verbose_level <= self.DEFAULT_VERBOSE_LEVEL:
            for name in _QUIET_LOGGERS:
                logging.getLogger(name).setLevel(logging.ERROR)

    def initialize_app(self, argv):
        self.client_manager = clientmanager.ClientManager(self.options)


def main(argv: list[str] | None = None) -> int:
    return KingbirdApp().run(sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":
    sys.exit(main())
