"""``kingbird dr ...``: geo-site disaster recovery of VNFs.

Protection plans and restore points belong to a project; ``dr failover`` and
``dr failback`` are for administrators, and ``--dry-run`` lists their steps.
"""

from __future__ import annotations

import logging
import time

from kingbird.cli import common
from kingbird.cli.common import CommandError
from kingbird.client import exceptions
from kingbird.client.dr import DryRun
from kingbird.client.vocabulary import DR_METHODS, DR_OPERATION_FINISHED

LOG = logging.getLogger(__name__)

PLAN_COLUMNS = ("ID", "Name", "Method", "Source Region", "Recovery Region",
                "Current Region", "Servers", "Status")
POINT_COLUMNS = ("ID", "Taken At", "Region", "Status", "Size (GB)", "Incremental",
                 "Purpose")
OPERATION_COLUMNS = ("ID", "Plan", "Kind", "From", "To", "Status", "Progress")
STEP_COLUMNS = ("Step", "Status", "Detail")
DRY_RUN_COLUMNS = ("Step", "Description", "Items")


def plan_fields(plan):
    names = ("id", "name", "description", "method", "source_region", "recovery_region",
             "current_region", "servers", "interval", "retention", "status", "error",
             "restore_points", "latest_restore_point", "next_restore_point_at")
    latest = plan.latest_restore_point or {}
    values = (plan.id, plan.name, plan.description or "", plan.method, plan.source_region,
              plan.recovery_region, plan.current_region, ", ".join(plan.servers),
              plan.interval, plan.retention, plan.status, plan.error or "",
              plan.restore_points if plan.restore_points is not None else "",
              f"{latest.get('id')} ({latest.get('taken_at')})" if latest else "",
              plan.next_restore_point_at or "")
    return names, values


def _step_rows(steps):
    return [(s.name, s.status, s.detail or "") for s in steps]


def _dry_run_rows(dry: DryRun):
    return [(s.name, s.description, "\n".join(s.items)) for s in dry.steps]


class _OnPlan:
    """A command on one plan, or with ``on_point`` on one of its restore points.

    Mixed in before the cliff base class, it adds the ids as the first positionals;
    a command's own ``get_parser`` calls ``super()`` and adds its options after them.
    """

    on_point = False

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("plan", metavar="<plan-id>")
        if self.on_point:
            parser.add_argument("point", metavar="<restore-point-id>")
        return parser


class CreateProtectionPlan(common.ShowOne):
    _description = ("Protect the servers of a VNF: restore points of them are taken on "
                    "schedule, restorable in the recovery region")

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("name", metavar="<name>", help="Name of the plan")
        parser.add_argument("--server", action="append", required=True, dest="servers",
                            metavar="<server-id>",
                            help="A server of the VNF (repeat, in boot order)")
        parser.add_argument("--source-region", required=True, metavar="<region>",
                            help="Where the servers run")
        parser.add_argument("--recovery-region", required=True, metavar="<region>",
                            help="Where they are restored after a disaster")
        parser.add_argument("--method", choices=DR_METHODS, default="snapshot-backup",
                            help="snapshot-backup: Nova snapshots and incremental Cinder "
                                 "backups (Option 2); replication: replicated volumes, "
                                 "promoted at failover (Option 3)")
        parser.add_argument("--interval", type=int, metavar="<seconds>",
                            help="Seconds between restore points (default 3600)")
        parser.add_argument("--retention", type=int, metavar="<n>",
                            help="Restore points kept (default 3)")
        parser.add_argument("--description", metavar="<text>")
        return parser

    def take_action(self, parsed_args):
        return plan_fields(self.client.dr.create_plan(
            parsed_args.name, parsed_args.servers, parsed_args.source_region,
            parsed_args.recovery_region, method=parsed_args.method,
            interval=parsed_args.interval, retention=parsed_args.retention,
            description=parsed_args.description))


class ListProtectionPlan(common.Lister):
    _description = "List your project's protection plans"

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("--all-projects", action="store_true",
                            help="Every project's plans (admin)")
        return parser

    def take_action(self, parsed_args):
        plans = self.client.dr.list_plans(all_projects=parsed_args.all_projects)
        return PLAN_COLUMNS, [(p.id, p.name, p.method, p.source_region, p.recovery_region,
                               p.current_region, len(p.servers), p.status) for p in plans]


class ShowProtectionPlan(_OnPlan, common.ShowOne):
    _description = "Show a protection plan"

    def take_action(self, parsed_args):
        return plan_fields(self.client.dr.get_plan(parsed_args.plan))


class SetProtectionPlan(_OnPlan, common.ShowOne):
    _description = "Change a protection plan's name, description, interval or retention"

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("--name", metavar="<name>")
        parser.add_argument("--description", metavar="<text>")
        parser.add_argument("--interval", type=int, metavar="<seconds>")
        parser.add_argument("--retention", type=int, metavar="<n>")
        return parser

    def take_action(self, parsed_args):
        changes = {k: getattr(parsed_args, k) for k in ("name", "description", "interval",
                                                        "retention")}
        if all(v is None for v in changes.values()):
            raise CommandError("nothing to change: give --name, --description, --interval "
                               "or --retention")
        return plan_fields(self.client.dr.update_plan(parsed_args.plan, **changes))


class DeleteProtectionPlan(common.Command):
    _description = "Delete protection plans, their restore points and backups"

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("plans", metavar="<plan-id>", nargs="+")
        return parser

    def take_action(self, parsed_args):
        failed = 0
        for plan_id in parsed_args.plans:
            try:
                self.client.dr.delete_plan(plan_id)
            except exceptions.KingbirdError as exc:
                failed += 1
                LOG.error("plan %s: %s", plan_id, common.describe_error(exc))
        if failed:
            raise CommandError(f"{failed} of {len(parsed_args.plans)} plans failed to delete")


class CreateRestorePoint(_OnPlan, common.Command):
    _description = "Take a restore point of a plan now"

    def take_action(self, parsed_args):
        self.client.dr.take_restore_point(parsed_args.plan)


class ListRestorePoint(_OnPlan, common.Lister):
    _description = "List a plan's restore points: time, size, status"

    def take_action(self, parsed_args):
        points = self.client.dr.list_restore_points(parsed_args.plan)
        return POINT_COLUMNS, [(p.id, p.taken_at or "", p.region, p.status, p.size_gb,
                                p.incremental, p.purpose) for p in points]


class ShowRestorePoint(_OnPlan, common.ShowOne):
    _description = "Show a restore point: its volumes' backups and its steps"
    on_point = True

    def take_action(self, parsed_args):
        p = self.client.dr.get_restore_point(parsed_args.plan, parsed_args.point)
        servers = ", ".join(s["name"] for s in (p.shape or {}).get("servers", []))
        backups = "\n".join(
            f"{b.get('volume_id')} {b.get('device')}: "
            + (f"backup {b['backup_id']}{' (incremental)' if b.get('incremental') else ''}"
               if b.get("backup_id") else f"replica {b.get('replica')}")
            for b in p.backups)
        steps = "\n".join(f"{s['name']}: {s['status']} {s.get('detail') or ''}".rstrip()
                          for s in p.steps)
        return (("id", "plan_id", "status", "region", "target_region", "taken_at",
                 "completed_at", "size_gb", "incremental", "servers", "volumes", "steps",
                 "error"),
                (p.id, p.plan_id, p.status, p.region, p.target_region, p.taken_at or "",
                 p.completed_at or "", p.size_gb, p.incremental, servers, backups, steps,
                 p.error or ""))


class DeleteRestorePoint(_OnPlan, common.Command):
    _description = "Delete a restore point and its backups"
    on_point = True

    def take_action(self, parsed_args):
        self.client.dr.delete_restore_point(parsed_args.plan, parsed_args.point)


class _Recover(_OnPlan, common.Lister):
    """Start a failover or failback; list its steps (all of them with --dry-run)."""

    action = ""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("--dry-run", action="store_true",
                            help="Only list the steps, change nothing")
        parser.add_argument("--wait", action="store_true",
                            help="Wait for the end and fail if the operation failed")
        parser.add_argument("--timeout", type=float, default=1800, metavar="<seconds>",
                            help="How long --wait waits (default 1800)")
        return parser

    def start(self, parsed_args):
        raise NotImplementedError

    def take_action(self, parsed_args):
        answer = self.start(parsed_args)
        if isinstance(answer, DryRun):
            return DRY_RUN_COLUMNS, _dry_run_rows(answer)
        LOG.info("%s %s started", self.action, answer.id)
        if parsed_args.wait:
            deadline = time.monotonic() + parsed_args.timeout
            while answer.status not in DR_OPERATION_FINISHED:
                if time.monotonic() > deadline:
                    raise CommandError(f"{self.action} {answer.id} still {answer.status} after "
                                       f"{parsed_args.timeout:.0f} s")
                time.sleep(1)
                answer = self.client.dr.get_operation(answer.id)
            if answer.status == "FAILURE":
                raise CommandError(f"{self.action} {answer.id} failed: {answer.error}")
        self.app.stderr.write(f"{self.action} {answer.id}: {answer.status}\n")
        return STEP_COLUMNS, _step_rows(answer.steps)


class FailoverProtectionPlan(_Recover):
    _description = ("Fail a plan's VNF over to its recovery region from a restore point "
                    "(admin; the newest one by default)")
    action = "failover"

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("--restore-point", metavar="<restore-point-id>",
                            help="The restore point to restore (default: the newest)")
        return parser

    def start(self, parsed_args):
        return self.client.dr.failover(parsed_args.plan, parsed_args.restore_point,
                                       dry_run=parsed_args.dry_run)


class FailbackProtectionPlan(_Recover):
    _description = "Bring a failed-over VNF back to its source region (admin)"
    action = "failback"

    def start(self, parsed_args):
        return self.client.dr.failback(parsed_args.plan, dry_run=parsed_args.dry_run)


class ListRecoveryOperation(common.Lister):
    _description = "List failovers and failbacks"

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("--plan", metavar="<plan-id>", help="Only this plan's")
        return parser

    def take_action(self, parsed_args):
        ops = self.client.dr.list_operations(parsed_args.plan)
        return OPERATION_COLUMNS, [(o.id, o.plan_id, o.kind, o.from_region, o.to_region,
                                    o.status, o.progress or "") for o in ops]


class ShowRecoveryOperation(common.Lister):
    _description = "Show a failover or failback step by step"

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("operation", metavar="<operation-id>")
        return parser

    def take_action(self, parsed_args):
        op = self.client.dr.get_operation(parsed_args.operation)
        self.app.stderr.write(f"{op.kind} {op.id}: {op.status}"
                              + (f": {op.error}\n" if op.error else "\n"))
        return STEP_COLUMNS, _step_rows(op.steps)
