"""The quotas extension: limits per project, defaults, and details with usage.

Reading its own quota is every member's right; reading another project's, listing
all, changing and resetting are the admin's, as in Neutron's default policy.
Lowering a limit below the usage is accepted unless ``check_limit`` is true.
"""

from __future__ import annotations

from regionsim import web
from regionsim.services.neutron import common
from regionsim.services.neutron.common import route
from regionsim.services.neutron.errors import BadRequest, NotFound, PolicyNotAuthorized
from regionsim.services.neutron.state import DEFAULT_QUOTAS

_MAX = 2 ** 31 - 1


def _may_read(caller, project_id: str) -> None:
    if project_id != caller.project_id and not caller.is_admin:
        raise PolicyNotAuthorized("rule:get_quota")


def parse_limits(body: dict) -> dict[str, int]:
    """Validated new limits of a quota update body (pure: no state)."""
    unknown = sorted(set(body) - set(DEFAULT_QUOTAS))
    if unknown:
        raise BadRequest(f"Unrecognized attribute(s) '{', '.join(unknown)}'")
    limits = {}
    for key, value in body.items():
        try:
            number = int(value)
            if isinstance(value, bool) or (isinstance(value, float) and number != value):
                raise ValueError
        except (TypeError, ValueError):
            raise BadRequest(f"Invalid input for {key}. Reason: '{value}' is not an integer.") \
                from None
        if number < -1:
            raise BadRequest(f"Invalid input for {key}. Reason: '{number}' is too small - must "
                             "be at least '-1'.")
        if number > _MAX:
            raise BadRequest(f"Invalid input for {key}. Reason: '{number}' is too large - must "
                             f"be no larger than '{_MAX}'.")
        limits[key] = number
    return limits


@route("/v2.0/quotas", ["GET"])
def list_quotas():
    st, caller = common.state(), web.caller()
    if not caller.is_admin:
        raise PolicyNotAuthorized("rule:get_quota")
    quotas = []
    for project_id in st.quota_limits:
        entry = st.limits(project_id)
        entry.update(project_id=project_id, tenant_id=project_id)
        quotas.append(entry)
    return web.json_response({"quotas": quotas})


@route("/v2.0/quotas/project", ["GET"])
def quota_project():
    return web.json_response({"project": {"project_id": web.caller().project_id}})


@route("/v2.0/quotas/tenant", ["GET"])
def quota_tenant():
    return web.json_response({"tenant": {"tenant_id": web.caller().project_id}})


@route("/v2.0/quotas/<project_id>", ["GET"])
def show_quota(project_id):
    st, caller = common.state(), web.caller()
    _may_read(caller, project_id)
    return web.json_response({"quota": st.limits(project_id)})


@route("/v2.0/quotas/<project_id>/default", ["GET"])
def show_quota_default(project_id):
    _may_read(web.caller(), project_id)
    return web.json_response({"quota": dict(DEFAULT_QUOTAS)})


@route("/v2.0/quotas/<project_id>/details", ["GET"])
def show_quota_details(project_id):
    st, caller = common.state(), web.caller()
    _may_read(caller, project_id)
    limits = st.limits(project_id)
    return web.json_response({"quota": {
        name: {"limit": limit, "used": st.usage(project_id, name), "reserved": 0}
        for name, limit in limits.items()}})


@route("/v2.0/quotas/<project_id>", ["PUT"])
def update_quota(project_id):
    st, caller = common.state(), web.caller()
    if not caller.is_admin:
        raise PolicyNotAuthorized("rule:update_quota")
    body = dict(common.resource_body("quota"))
    body.pop("force", None)
    check_limit = common.to_bool(body.pop("check_limit", False), "check_limit")
    limits = parse_limits(body)
    if check_limit:
        for name, limit in limits.items():
            used = st.usage(project_id, name)
            if limit != -1 and used > limit:
                raise BadRequest(f"Quota limit {limit} for {name} must be greater than or equal "
                                 f"to already used {used}")
    st.quota_limits.setdefault(project_id, {}).update(limits)
    return web.json_response({"quota": st.limits(project_id)})


@route("/v2.0/quotas/<project_id>", ["DELETE"])
def delete_quota(project_id):
    st, caller = common.state(), web.caller()
    if not caller.is_admin:
        raise PolicyNotAuthorized("rule:delete_quota")
    if st.quota_limits.pop(project_id, None) is None:
        raise NotFound(f"Quota for tenant {project_id} could not be found.",
                       "TenantQuotaNotFound")
    return web.json_response(None, 204)
