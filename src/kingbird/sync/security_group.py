"""Security groups: the group and all its rules, in the caller's project.

Rules that name a remote group name, in the target, the group of the same name
in the same project: the group itself maps to its copy, another group to the
target's group of that name (created empty if missing, so that the rule can
exist; syncing that group too fills it). Rules cannot be changed in Neutron, so
the copy deletes the target's rules that the source lacks and creates the
missing ones; Neutron's automatic egress rules are treated like any other.
"""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus

from kingbird.core.exceptions import RegionError, WorkFailed
from kingbird.regions.copying import Action, Copier, Scope, Task, already_exists, decide, not_found
from kingbird.regions.security_groups import RULE_FIELDS, SecurityGroups


def rule_key(rule: Mapping, remote_group_id: str | None) -> tuple:
    """What makes two rules equal, with the remote group already mapped (pure)."""
    protocol = rule.get("protocol")
    return (rule.get("direction"), rule.get("ethertype"),
            None if protocol is None else str(protocol).lower(),
            rule.get("port_range_min"), rule.get("port_range_max"),
            rule.get("remote_ip_prefix"), remote_group_id, rule.get("description") or "")


def plan_rules(source_rules: list[Mapping], target_rules: list[Mapping],
               group_map: Mapping[str, str]) -> tuple[list[str], list[dict]]:
    """``(rule ids to delete, rule bodies to create)`` in the target (pure).

    :param group_map: source group id → target group id, for every remote group
        the source rules name.
    """
    wanted: dict[tuple, dict] = {}
    for rule in source_rules:
        remote = rule.get("remote_group_id")
        mapped = None if remote is None else group_map[remote]
        body = {f: rule.get(f) for f in RULE_FIELDS if rule.get(f) is not None}
        body.pop("remote_address_group_id", None)
        if mapped is not None:
            body["remote_group_id"] = mapped
        wanted[rule_key(rule, mapped)] = body
    present = {rule_key(r, r.get("remote_group_id")): r["id"] for r in target_rules}
    to_delete = [rule_id for key, rule_id in present.items() if key not in wanted]
    to_create = [body for key, body in wanted.items() if key not in present]
    return to_delete, to_create


class SecurityGroupCopier(Copier):
    resource_type = "security_group"

    def __init__(self, groups: SecurityGroups):
        self.groups = groups

    def locate(self, region: str, scope: Scope, resource: str) -> list[dict]:
        return self.groups.find(region, scope.project_id, resource)

    def _one(self, region: str, project_id: str, found: list[dict], name: str) -> dict | None:
        if len(found) > 1:
            raise WorkFailed(f"several security groups are named {name} in {region}; "
                             "sync by id")
        return found[0] if found else None

    def _rules(self, region: str, group: dict) -> list[dict]:
        rules = group.get("security_group_rules")
        return rules if rules is not None else self.groups.rules(region, group["id"])

    def _map_groups(self, task: Task, source: dict, target_id: str, rules: list[dict],
                    create_missing: bool) -> dict[str, str] | None:
        """Source remote group id → target group id; None if one is missing in the
        target and ``create_missing`` is off."""
        project = task.scope.project_id
        mapping = {source["id"]: target_id}
        for remote in {r["remote_group_id"] for r in rules if r.get("remote_group_id")}:
            if remote in mapping:
                continue
            other = self.groups.get(task.source, remote)
            if other is None:
                raise WorkFailed(f"a rule of {source['name']} names security group {remote}, "
                                 f"which is not in {task.source}")
            match = self._one(task.target, project,
                              self.groups.by_name(task.target, project, other["name"]),
                              other["name"])
            if match is None:
                if not create_missing:
                    return None
                match = self.groups.create(task.target, project, other["name"],
                                           other.get("description") or "")
            mapping[remote] = match["id"]
        return mapping

    def _create(self, task: Task, name: str, description: str) -> dict:
        """Create the group; Neutron makes a project's ``default`` group itself, on
        first use, so a create of it that conflicts finds it made meanwhile."""
        project = task.scope.project_id
        try:
            return self.groups.create(task.target, project, name, description)
        except RegionError as exc:
            if exc.status != HTTPStatus.CONFLICT:
                raise
            made = self._one(task.target, project,
                             self.groups.by_name(task.target, project, name), name)
            if made is None:
                raise
            return made

    def copy(self, task: Task) -> None:
        project = task.scope.project_id
        source = self._one(task.source, project,
                           self.groups.find(task.source, project, task.resource), task.resource)
        if source is None:
            raise not_found("security group", task.resource, task.source)
        rules = self._rules(task.source, source)
        if any(r.get("remote_address_group_id") for r in rules):
            raise WorkFailed(f"security group {source['name']} has rules with a remote "
                             "address group, which Kingbird does not synchronise")
        target = self._one(task.target, project,
                           self.groups.by_name(task.target, project, source["name"]),
                           source["name"])
        same = False
        if target is not None:
            mapping = self._map_groups(task, source, target["id"], rules, create_missing=False)
            same = (mapping is not None
                    and (target.get("description") or "") == (source.get("description") or "")
                    and plan_rules(rules, self._rules(task.target, target), mapping) == ([], []))
        action = decide(target is not None, same, task.force, task.resumed)
        if action is Action.DONE:
            return
        if action is Action.REFUSE:
            raise already_exists("security group", source["name"], task.target)
        task.progress.save({"action": action.value})
        description = source.get("description") or ""
        if target is None:
            target = self._create(task, source["name"], description)
        elif (target.get("description") or "") != description:
            self.groups.update_description(task.target, target["id"], description)
        mapping = self._map_groups(task, source, target["id"], rules, create_missing=True)
        assert mapping is not None
        to_delete, to_create = plan_rules(rules, self.groups.rules(task.target, target["id"]),
                                          mapping)
        for rule_id in to_delete:
            task.progress.check()
            self.groups.delete_rule(task.target, rule_id)
        for body in to_create:
            task.progress.check()
            self.groups.create_rule(task.target, project, target["id"], body)
