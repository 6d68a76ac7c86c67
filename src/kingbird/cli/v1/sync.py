"""``kingbird sync ...``: resource synchronisation jobs."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import yaml

from kingbird.cli import common
from kingbird.cli.common import CommandError
from kingbird.client import exceptions
from kingbird.client.vocabulary import SYNC_RESOURCE_TYPES

LOG = logging.getLogger(__name__)

JOB_COLUMNS = ("ID", "Status", "Created At", "Updated At")
ENTRY_COLUMNS = ("Resource", "Resource Type", "Source Region", "Target Region", "Status",
                 "Created At", "Updated At", "Error")
_REQUIRED = ("resource_type", "resources", "source", "target")
# The spelling of python-kingbirdclient's templates, still accepted.
_ALIASES = {"source_region": "source", "target_region": "target"}


class TemplateError(CommandError):
    """A sync template that cannot be read or is not of the expected form."""


def parse_template(text: str, name: str = "template") -> list[dict[str, Any]]:
    """The entries of a sync template, checked enough to name a mistake before sending.

    The template is YAML or JSON: ``{"Sync": [{"resource_type", "resources", "source",
    "target", "force"?}, ...]}`` (the API's ``resource_set`` around it is accepted).
    A single resource or target may be given as a string. The server still validates
    the values (types, regions, resources).

    :param text: the template's text.
    :param name: the file name, for messages.
    :raises TemplateError: not YAML/JSON, or an entry lacks a field.
    """
    try:
        data = json.loads(text)
    except ValueError:
        try:  # YAML reads most JSON too, but not all (tabs): JSON is tried first
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise TemplateError(f"{name}: not valid YAML or JSON: "
                                f"{' '.join(str(exc).split())}") from exc
    if isinstance(data, dict) and isinstance(data.get("resource_set"), dict):
        data = data["resource_set"]
    if not isinstance(data, dict) or not isinstance(data.get("Sync"), list) \
            or not data["Sync"]:
        raise TemplateError(f"{name}: expected a non-empty list under 'Sync'")
    return [_entry(item, f"{name}: Sync[{index}]")
            for index, item in enumerate(data["Sync"], start=1)]


def _entry(item: Any, where: str) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise TemplateError(f"{where}: expected a mapping with {', '.join(_REQUIRED)}")
    entry = {_ALIASES.get(key, key): value for key, value in item.items()}
    for key in _REQUIRED:
        if entry.get(key) in (None, "", []):
            raise TemplateError(f"{where}: {key!r} is missing")
    for key in ("resources", "target"):
        if isinstance(entry[key], str):
            entry[key] = [entry[key]]
    return entry


def load_template(path: str) -> list[dict[str, Any]]:
    """The entries of the template file at ``path`` (see ``parse_template``)."""
    try:
        text = Path(path).read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise TemplateError(f"cannot read {path}: {exc}") from exc
    return parse_template(text, path)


def _job_row(job):
    return job.id, job.status, job.created_at, job.updated_at


def _created(job):
    return ("ID", "Status", "Created At"), (job.id, job.status, job.created_at)


class CreateSyncJob(common.ShowOne):
    _description = "Copy resources of one type from a region to other regions"

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("--resource_type", "--resource-type", required=True,
                            metavar="<type>",
                            help=f"Type of the resources: {', '.join(SYNC_RESOURCE_TYPES)}")
        parser.add_argument("--resources", action="append", required=True,
                            metavar="<name-or-id>",
                            help="A resource to copy (repeat for more)")
        parser.add_argument("--source", required=True, metavar="<region>",
                            help="The region to copy from")
        parser.add_argument("--target", action="append", required=True, metavar="<region>",
                            help="A region to copy to (repeat for more)")
        parser.add_argument("--force", action="store_true",
                            help="Replace resources that already exist in a target")
        return parser

    def take_action(self, parsed_args):
        return _created(self.client.sync_jobs.create(
            parsed_args.resource_type, parsed_args.resources, parsed_args.source,
            parsed_args.target, force=parsed_args.force))


class CreateSyncJobFromTemplate(common.ShowOne):
    _description = ("Copy several resource types between regions in one job, "
                    "as described by a YAML or JSON template")

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("template", metavar="<file>", nargs="?",
                            help="The template: a 'Sync' list of entries with "
                                 "resource_type, resources, source, target, force")
        parser.add_argument("--template", dest="template_option", metavar="<file>",
                            help="The same, as python-kingbirdclient spelled it")
        return parser

    def take_action(self, parsed_args):
        path = parsed_args.template or parsed_args.template_option
        if not path:
            raise CommandError("give the template file")
        return _created(self.client.sync_jobs.create_from_template(load_template(path)))


class ListSyncJob(common.Lister):
    _description = "List your project's sync jobs"

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("--active", action="store_true",
                            help="Only the jobs still in progress")
        return parser

    def take_action(self, parsed_args):
        jobs = self.client.sync_jobs.list(active=parsed_args.active)
        return JOB_COLUMNS, [_job_row(job) for job in jobs]


class ShowSyncJob(common.Lister):
    _description = "Show a sync job: one row per resource and target region"

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("job_id", metavar="<job-id>", help="The job")
        return parser

    def take_action(self, parsed_args):
        entries = self.client.sync_jobs.get(parsed_args.job_id)
        return ENTRY_COLUMNS, [
            (e.resource, e.resource_type, e.source_region, e.target_region, e.status,
             e.created_at, e.updated_at, e.error or "") for e in entries]


class DeleteSyncJob(common.Command):
    _description = "Delete finished sync jobs"

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("job_ids", metavar="<job-id>", nargs="+", help="Job(s) to delete")
        return parser

    def take_action(self, parsed_args):
        failed = 0
        for job_id in parsed_args.job_ids:
            try:
                self.client.sync_jobs.delete(job_id)
            except exceptions.KingbirdError as exc:
                failed += 1
                LOG.error("job %s: %s", job_id, common.describe_error(exc))
        if failed:
            total = len(parsed_args.job_ids)
            raise CommandError(f"{failed} of {total} sync jobs failed to delete")
