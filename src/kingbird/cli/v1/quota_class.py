"""``kingbird quota-class ...``: quota classes; ``default`` feeds the defaults."""

from __future__ import annotations

from kingbird.cli import common


def _fields(quota_class):
    return (("class_name", *quota_class.limits),
            (quota_class.class_name, *quota_class.limits.values()))


def _add_class(parser) -> None:
    parser.add_argument("class_name", metavar="<quota-class>",
                        help="The quota class, e.g. default")


class ShowQuotaClass(common.ShowOne):
    _description = "Show the limits of a quota class"

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        _add_class(parser)
        return parser

    def take_action(self, parsed_args):
        return _fields(self.client.quota_classes.get(parsed_args.class_name))


class UpdateQuotaClass(common.ShowOne):
    _description = "Create a quota class or set some of its limits"

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        _add_class(parser)
        common.add_quota_options(parser)
        return parser

    def take_action(self, parsed_args):
        limits = common.limits_from_args(parsed_args)
        return _fields(self.client.quota_classes.update(parsed_args.class_name, limits))


class DeleteQuotaClass(common.Command):
    _description = "Delete a quota class"

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        _add_class(parser)
        return parser

    def take_action(self, parsed_args):
        self.client.quota_classes.delete(parsed_args.class_name)
