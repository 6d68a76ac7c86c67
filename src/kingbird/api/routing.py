"""Routes served under both API versions, and the caller's tenant check.

v1.0 paths carry the caller's project as ``/v1.0/{tenant}/...`` (the user guide's
form); v1.1 drops that segment. One handler serves both, with or without a
trailing slash (``create_flask_app`` turns strict slashes off).

Every handler registered here runs behind the same checks of its path: a path
parameter or query argument holding a control character or a lone surrogate is a
400 naming it, and a parameter declared ``<uuid:name>`` that is not a UUID is a
404 naming it, before the handler (so before any query) runs.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable

from flask import Blueprint, g, request

from kingbird.api import openapi, validation
from kingbird.api.app_services import services
from kingbird.api.context import RequestContext
from kingbird.core import exceptions

_UUID_PARAM = re.compile(r"<uuid:([a-z_]+)>")
_UUID_SCHEMA = {"type": "string", "format": "uuid"}


def both_versions(bp: Blueprint, rule: str, view: Callable, methods: list[str]) -> None:
    """Register ``view`` at ``/v1.0/<tenant>{rule}`` and ``/v1.1{rule}``, behind the
    checks of its path parameters (``<uuid:name>``: a UUID, passed as given)."""
    name = view.__name__
    checked = _path_checked(view, frozenset(_UUID_PARAM.findall(rule)))
    rule = _UUID_PARAM.sub(r"<\1>", rule)
    bp.add_url_rule(f"/v1.0/<tenant>{rule}", f"{name}_v10", checked, methods=methods)
    bp.add_url_rule(f"/v1.1{rule}", f"{name}_v11", checked, methods=methods)


def _path_checked(view: Callable, uuids: frozenset[str]) -> Callable:
    @functools.wraps(view)
    def checked(**params):
        for key, value in request.args.items(multi=True):
            validation.path_text(key, "query parameter name")
            validation.path_text(value, f"query parameter {key!r}")
        for key, value in params.items():
            validation.path_text(value, key)
        for key in uuids:
            validation.uuid_id(params[key], key)
        return view(**params)
    return checked


def describe_both(method: str, rule: str, summary: str, tag: str, **kwargs) -> None:
    """OpenAPI entries for both versions of a route (``<uuid:name>``: a parameter of
    format ``uuid``)."""
    path = openapi.flask_rule_to_openapi(rule)
    parameters = {name: _UUID_SCHEMA for name in _UUID_PARAM.findall(rule)}
    openapi.describe(method, f"/v1.0/{{tenant}}{path}", summary, tag,
                     parameters=parameters, **kwargs)
    openapi.describe(method, f"/v1.1{path}", summary, tag, parameters=parameters, **kwargs)


def context() -> RequestContext:
    """The caller of this request; every handler reaches it through here.

    :raises Forbidden: the token is scoped to no project and is not a cloud
        administrator's (an unscoped, domain- or system-scoped token).
    """
    ctx = g.context
    services().authoriser.require_project_scope(ctx)
    return ctx


def check_tenant(tenant: str | None) -> RequestContext:
    """Validate the ``{tenant}`` segment against the token.

    :raises BadRequest: it is not a project id.
    :raises Forbidden: a non-admin names a project other than the token's.
    """
    ctx = context()
    if tenant is not None:
        validation.project_id(tenant, "tenant")
        if not ctx.is_admin and tenant != ctx.project_id:
            raise exceptions.Forbidden(
                "the tenant in the URL is not the project of the token")
    return ctx


def authorise(rule: str, target: dict) -> None:
    services().authoriser.authorise(context(), rule, target)


__all__ = ["both_versions", "describe_both", "check_tenant", "authorise"]
