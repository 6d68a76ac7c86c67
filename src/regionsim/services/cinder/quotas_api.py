"""``os-quota-sets``, ``os-quota-class-sets`` and ``limits`` of the simulated Cinder.

Update semantics are current Cinder's: every new limit is checked against
``in_use + reserved`` and a lower one is refused with 400 (``-1`` and
``per_volume_gigabytes`` excepted). The old ``skip_validation`` flag is gone
from the API: the request schema allows nothing beside ``quota_set``, so a
body carrying it gets a 400, as from Cinder since its quota API moved to
JSON-schema validation.
"""

from __future__ import annotations

from flask import request

from regionsim.services.cinder import quota
from regionsim.services.cinder.common import (
    CinderError,
    bad_request,
    body_object,
    parse_int,
    policy_denied,
    require_admin,
    route,
    state,
    to_bool,
)
from regionsim.web import caller, json_body, json_response

_NON_QUOTA_KEYS = ("tenant_id", "id")


def _require_own_or_admin(rule: str, project_id: str) -> None:
    who = caller()
    if not who.is_admin and who.project_id != project_id:
        raise policy_denied(rule)


@route("/os-quota-sets/<project_id>")
def show_quota_set(project_id: str):
    _require_own_or_admin("volume_extension:quotas:show", project_id)
    usage = to_bool("usage", request.args.get("usage"))
    cinder = state()
    with cinder.lock:
        limits = cinder.limits(project_id)
        in_use = cinder.quotas.in_use(project_id)
        if usage:
            body: dict = {key: {"limit": limit, "in_use": in_use.get(key, 0), "reserved": 0,
                                "allocated": 0} for key, limit in limits.items()}
        else:
            body = dict(limits)
    body["id"] = project_id
    return json_response({"quota_set": body})


@route("/os-quota-sets/<project_id>/defaults")
def show_quota_defaults(project_id: str):
    _require_own_or_admin("volume_extension:quotas:show", project_id)
    cinder = state()
    with cinder.lock:
        body = cinder.quotas.defaults(cinder.quota_keys())
    body["id"] = project_id
    return json_response({"quota_set": body})


def _validated(values: dict, keys: tuple[str, ...], label: str,
               skip: tuple[str, ...] = ()) -> dict[str, int]:
    bad = [k for k in values if k not in keys and k not in skip]
    if bad:
        raise bad_request(f"Invalid input received: Bad key(s) in {label}: {', '.join(bad)}")
    try:
        return {k: parse_int(k, v, minimum=-1) for k, v in values.items() if k in keys}
    except CinderError as exc:
        raise bad_request(f"Invalid input received: {exc.message}") from None


@route("/os-quota-sets/<project_id>", methods=("PUT",))
def update_quota_set(project_id: str):
    require_admin("volume_extension:quotas:update")
    extra = sorted(set(json_body() or {}) - {"quota_set"})
    if extra:
        quoted = ", ".join(f"'{k}'" for k in extra)
        raise bad_request(f"Invalid input for field/attribute None. Value: {json_body()}. "
                          f"Additional properties are not allowed ({quoted} "
                          f"{'was' if len(extra) == 1 else 'were'} unexpected)")
    values = body_object("quota_set")
    if not values:
        raise bad_request("Invalid input for field/attribute quota_set. Value: {}. {} does "
                          "not have enough properties")
    cinder = state()
    with cinder.lock:
        new = _validated(values, cinder.quota_keys(), "quota set", _NON_QUOTA_KEYS)
        in_use = cinder.quotas.in_use(project_id)
        for key, limit in new.items():
            problem = quota.below_usage(key, limit, in_use.get(key, 0))
            if problem:
                raise bad_request(problem)
        cinder.quotas.projects.setdefault(project_id, {}).update(new)
        return json_response({"quota_set": cinder.limits(project_id)})


@route("/os-quota-sets/<project_id>", methods=("DELETE",))
def delete_quota_set(project_id: str):
    require_admin("volume_extension:quotas:delete")
    cinder = state()
    with cinder.lock:
        cinder.quotas.projects.pop(project_id, None)
    return json_response(None, 200)


def _class_limits(cinder, class_name: str) -> dict[str, int]:
    own = cinder.quotas.classes.get(class_name, {})
    defaults = cinder.quotas.defaults(cinder.quota_keys())
    return {key: own.get(key, value) for key, value in defaults.items()}


@route("/os-quota-class-sets/<class_name>")
def show_quota_class_set(class_name: str):
    require_admin("volume_extension:quota_classes")
    cinder = state()
    with cinder.lock:
        body = _class_limits(cinder, class_name)
    body["id"] = class_name
    return json_response({"quota_class_set": body})


@route("/os-quota-class-sets/<class_name>", methods=("PUT",))
def update_quota_class_set(class_name: str):
    require_admin("volume_extension:quota_classes:update")
    values = body_object("quota_class_set")
    cinder = state()
    with cinder.lock:
        new = _validated(values, cinder.quota_keys(), "quota class set")
        cinder.quotas.classes.setdefault(class_name, {}).update(new)
        return json_response({"quota_class_set": _class_limits(cinder, class_name)})


@route("/limits")
def show_limits():
    cinder = state()
    with cinder.lock:
        absolute = cinder.absolute_limits(caller().project_id)
    return json_response({"limits": {"rate": [], "absolute": absolute}})
