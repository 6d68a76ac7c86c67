"""What every command shares: error reporting, the client, the quota key options."""

from __future__ import annotations

import argparse

from cliff import command, lister, show

from kingbird.client import Client, exceptions
from kingbird.client.vocabulary import QUOTA_KEYS

# The user guide's description of each key, for --help.
QUOTA_HELP = {
    "instances": "Number of instances allowed per project",
    "cores": "Number of instance cores allowed per project",
    "ram": "Megabytes of instance RAM allowed per project",
    "metadata_items": "Number of metadata items allowed per instance",
    "key_pairs": "Number of key pairs per user",
    "fixed_ips": "Number of fixed IPs allowed per project (Nova Network)",
    "security_groups": "Number of security groups per project (Nova Network)",
    "floating_ips": "Number of floating IPs allowed per project (Nova Network)",
    "network": "Number of networks allowed per project (Neutron)",
    "subnet": "Number of subnets allowed per project (Neutron)",
    "port": "Number of ports allowed per project (Neutron)",
    "security_group": "Number of security groups allowed per project (Neutron)",
    "security_group_rule": "Number of security group rules allowed per project (Neutron)",
    "router": "Number of routers allowed per project (Neutron)",
    "floatingip": "Number of floating IPs allowed per project (Neutron)",
    "volumes": "Number of volumes allowed per project",
    "snapshots": "Number of snapshots allowed per project",
    "gigabytes": "Gigabytes of volumes and snapshots allowed per project",
    "backups": "Number of volume backups allowed per project",
    "backup_gigabytes": "Gigabytes of volume backups allowed per project",
}


class CommandError(Exception):
    """An expected failure: cliff prints the message on one line and exits with 1."""


def describe_error(exc: exceptions.KingbirdError) -> str:
    """One line for the user: the API's status and message, or what went wrong locally."""
    status = getattr(exc, "http_status", None)
    if status is None:
        return exc.message
    return f"{exc.title} (HTTP {status}): {exc.message}"


class _ReportsErrors:
    """Turns the client's exceptions into ``CommandError``: cliff prints its message on
    one line and exits non-zero, with a traceback only under ``--debug``."""

    @property
    def client(self) -> Client:
        return self.app.client_manager.kingbird

    def run(self, parsed_args: argparse.Namespace) -> int:
        try:
            return super().run(parsed_args)
        except exceptions.KingbirdError as exc:
            raise CommandError(describe_error(exc)) from exc


class Command(_ReportsErrors, command.Command):
    """A command that prints nothing on success."""


class ShowOne(_ReportsErrors, show.ShowOne):
    """A command that shows one record, field by field."""


class Lister(_ReportsErrors, lister.Lister):
    """A command that shows a table of records."""


def add_quota_options(parser: argparse.ArgumentParser) -> None:
    """One ``--<key> <n>`` option per quota key, spelled as in the user guide."""
    group = parser.add_argument_group("limits", "new limit per quota key; -1 is unlimited")
    for key in QUOTA_KEYS:
        group.add_argument(f"--{key}", type=int, metavar="<n>", help=QUOTA_HELP[key])


def limits_from_args(parsed_args: argparse.Namespace) -> dict[str, int]:
    """The quota options that were given, as the request body wants them.

    :raises CommandError: none was given.
    """
    limits = {key: getattr(parsed_args, key) for key in QUOTA_KEYS
              if getattr(parsed_args, key, None) is not None}
    if not limits:
        raise CommandError("nothing to update: give at least one limit, e.g. --cores 20")
    return limits
