"""``os-quota-sets``, ``os-quota-class-sets`` and ``limits`` of the simulated Nova.

Policies follow Nova's defaults: a member reads its own project's quotas and
limits, defaults are readable by anyone, everything else is admin only.
"""

from __future__ import annotations

from flask import request

from regionsim.services.nova import quota
from regionsim.services.nova.common import (
    bad_request,
    body_object,
    parse_int,
    require_admin,
    require_project_or_admin,
    route,
    state,
    version,
)
from regionsim.web import caller, json_response

_RULE = "os_compute_api:os-quota-sets:{}"
_CLASS_RULE = "os_compute_api:os-quota-class-sets:{}"


def _minor() -> int:
    return version()[1]


def _limits_body(limits: dict[str, int], keys: tuple[str, ...], ident: str | None) -> dict:
    body = {key: limits[key] for key in keys}
    if ident is not None:
        body["id"] = ident
    return body


@route("/os-quota-sets/<project_id>")
def show_quota_set(project_id: str):
    require_project_or_admin(_RULE.format("show"), project_id)
    nova = state()
    with nova.lock:
        limits = nova.quotas.limits(project_id)
    keys = quota.quota_set_keys(_minor())
    return json_response({"quota_set": _limits_body(limits, keys, project_id)})


@route("/os-quota-sets/<project_id>/detail")
def show_quota_set_detail(project_id: str):
    require_project_or_admin(_RULE.format("detail"), project_id)
    nova = state()
    with nova.lock:
        limits = nova.quotas.limits(project_id)
        in_use = nova.quotas.in_use(project_id)
    body: dict = {"id": project_id}
    for key in quota.quota_set_keys(_minor()):
        body[key] = {"in_use": in_use[key], "limit": limits[key], "reserved": 0}
    return json_response({"quota_set": body})


@route("/os-quota-sets/<project_id>/defaults")
def show_quota_defaults(project_id: str):
    nova = state()
    with nova.lock:
        defaults = dict(nova.quotas.defaults())
    return json_response({"quota_set": _limits_body(defaults, quota.quota_set_keys(_minor()),
                                                    project_id)})


def _parse_limits(values: dict, allowed: tuple[str, ...], extra: tuple[str, ...] = ()
                  ) -> dict[str, int]:
    unknown = sorted(set(values) - set(allowed) - set(extra))
    if unknown:
        quoted = ", ".join(f"'{k}'" for k in unknown)
        verb = "was" if len(unknown) == 1 else "were"
        raise bad_request(f"Invalid input for field/attribute quota_set. Value: {values}. "
                          f"Additional properties are not allowed ({quoted} {verb} "
                          "unexpected)")
    return {key: parse_int(key, values[key], minimum=-1)
            for key in values if key in allowed}


@route("/os-quota-sets/<project_id>", methods=("PUT",))
def update_quota_set(project_id: str):
    require_admin(_RULE.format("update"))
    values = body_object("quota_set")
    force = values.get("force", False)
    if isinstance(force, str):
        force = force.strip().lower() in ("1", "t", "true", "on", "y", "yes")
    new = _parse_limits(values, quota.quota_set_keys(_minor()), extra=("force",))
    nova = state()
    with nova.lock:
        if not force:
            in_use = nova.quotas.in_use(project_id)
            for key, limit in new.items():
                problem = quota.below_usage(key, limit, in_use[key])
                if problem:
                    raise bad_request(problem)
        nova.quotas.set_limits(project_id, new)
        limits = nova.quotas.limits(project_id)
    keys = quota.quota_set_keys(_minor())
    return json_response({"quota_set": _limits_body(limits, keys, None)})


@route("/os-quota-sets/<project_id>", methods=("DELETE",))
def revert_quota_set(project_id: str):
    require_admin(_RULE.format("delete"))
    nova = state()
    with nova.lock:
        nova.quotas.revert(project_id)
    return json_response(None, 202)


@route("/os-quota-class-sets/<class_name>")
def show_quota_class_set(class_name: str):
    require_admin(_CLASS_RULE.format("show"))
    nova = state()
    with nova.lock:
        own = nova.quotas.classes.get(class_name, {})
        defaults = nova.quotas.defaults()
        limits = {k: quota.resolve(k, own, defaults) for k in quota.ALL_KEYS}
    keys = quota.quota_class_keys(_minor())
    return json_response({"quota_class_set": _limits_body(limits, keys, class_name)})


@route("/os-quota-class-sets/<class_name>", methods=("PUT",))
def update_quota_class_set(class_name: str):
    require_admin(_CLASS_RULE.format("update"))
    values = body_object("quota_class_set")
    keys = quota.quota_class_keys(_minor())
    new = _parse_limits(values, keys)
    nova = state()
    with nova.lock:
        nova.quotas.classes.setdefault(class_name, {}).update(new)
        own = nova.quotas.classes[class_name]
        defaults = nova.quotas.defaults()
        limits = {k: quota.resolve(k, own, defaults) for k in quota.ALL_KEYS}
    return json_response({"quota_class_set": _limits_body(limits, keys, None)})


# Absolute limit names and the quota each reports, with the microversion that
# dropped them (None: still there at our maximum).
_ABSOLUTE = (
    ("maxImageMeta", "metadata_items", 39),
    ("maxPersonality", "injected_files", 57),
    ("maxPersonalitySize", "injected_file_content_bytes", 57),
    ("maxSecurityGroupRules", "security_group_rules", 36),
    ("maxSecurityGroups", "security_groups", 36),
    ("maxServerGroupMembers", "server_group_members", None),
    ("maxServerGroups", "server_groups", None),
    ("maxServerMeta", "metadata_items", None),
    ("maxTotalCores", "cores", None),
    ("maxTotalFloatingIps", "floating_ips", 36),
    ("maxTotalInstances", "instances", None),
    ("maxTotalKeypairs", "key_pairs", None),
    ("maxTotalRAMSize", "ram", None),
)
_USED = (
    ("totalCoresUsed", "cores", None),
    ("totalFloatingIpsUsed", "floating_ips", 36),
    ("totalInstancesUsed", "instances", None),
    ("totalRAMUsed", "ram", None),
    ("totalSecurityGroupsUsed", "security_groups", 36),
    ("totalServerGroupsUsed", "server_groups", None),
)


@route("/limits")
def show_limits():
    who = caller()
    project_id = request.args.get("tenant_id") or who.project_id
    if project_id != who.project_id:
        require_admin("os_compute_api:limits:other_project")
    minor = _minor()
    nova = state()
    with nova.lock:
        limits = nova.quotas.limits(project_id)
        in_use = nova.quotas.in_use(project_id)
    absolute = {name: limits[key] for name, key, gone in _ABSOLUTE
                if gone is None or minor < gone}
    absolute.update({name: in_use[key] for name, key, gone in _USED
                     if gone is None or minor < gone})
    return json_response({"limits": {"absolute": absolute, "rate": []}})
