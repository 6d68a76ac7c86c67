"""``kingbird quota ...``: global limits of projects."""

from __future__ import annotations

import argparse

from kingbird.cli import common
from kingbird.client.vocabulary import QUOTA_KEYS


def _quota_key(value: str) -> str:
    # Not ``choices``: argparse checks an empty ``nargs="*"`` against them and fails.
    if value not in QUOTA_KEYS:
        raise argparse.ArgumentTypeError(
            f"unknown quota key {value!r} (choose from {', '.join(QUOTA_KEYS)})")
    return value


def _add_tenant(parser, what: str) -> None:
    parser.add_argument("--tenant", "--project", dest="project", metavar="<project-id>",
                        help=f"The project whose {what} to show (default: your own)")


class ShowDefaultQuota(common.ShowOne):
    _description = "Show the default global limits, those of a project that sets none"

    def take_action(self, parsed_args):
        limits = self.client.quotas.defaults().limits
        return tuple(limits), tuple(limits.values())


class ShowQuota(common.ShowOne):
    _description = "Show the global limits of a project"

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        _add_tenant(parser, "limits")
        return parser

    def take_action(self, parsed_args):
        limits = self.client.quotas.get(parsed_args.project).limits
        return tuple(limits), tuple(limits.values())


class UpdateQuota(common.ShowOne):
    _description = "Set global limits of a project; Kingbird then syncs them to every region"

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("project", metavar="<project-id>", help="The project")
        common.add_quota_options(parser)
        return parser

    def take_action(self, parsed_args):
        limits = common.limits_from_args(parsed_args)
        updated = self.client.quotas.update(parsed_args.project, limits).limits
        return tuple(updated), tuple(updated.values())


class ShowQuotaDetail(common.Lister):
    _description = ("Show a project's limits with its usage summed over every region "
                    "and what remains, per quota key")

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        _add_tenant(parser, "usage")
        return parser

    def take_action(self, parsed_args):
        detail = self.client.quotas.detail(parsed_args.project)
        for region, reason in sorted(detail.missing_regions.items()):
            self.app.stderr.write(f"warning: {region} did not answer ({reason}); "
                                  "its usage is not counted\n")
        return ("Quota", "Limit", "Usage", "Remaining"), detail.rows()


class SyncQuota(common.Command):
    _description = "Sync a project's quotas to every region now"

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("project", metavar="<project-id>", help="The project")
        return parser

    def take_action(self, parsed_args):
        self.client.quotas.sync(parsed_args.project)


class DeleteQuota(common.Command):
    _description = ("Delete a project's global limits (all, or the keys given); "
                    "the defaults apply again")

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("project", metavar="<project-id>", help="The project")
        parser.add_argument("keys", metavar="<key>", nargs="*", type=_quota_key,
                            help="Quota keys to delete (default: all), e.g. cores ram")
        return parser

    def take_action(self, parsed_args):
        self.client.quotas.delete(parsed_args.project, parsed_args.keys)
