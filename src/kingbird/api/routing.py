"""Routes served under both API versions, and the caller's tenant check.

v1.0 paths carry the caller's project as ``/v1.0/{tenant}/...`` (the user guide's
form); v1.1 drops that segment. One handler serves both.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, g

from kingbird.api import openapi, validation
from kingbird.api.app_services import services
from kingbird.api.context import RequestContext
from kingbird.core import exceptions


def both_versions(bp: Blueprint, rule: str, view: Callable, methods: list[str]) -> None:
    """Register ``view`` at ``/v1.0/<tenant>{rule}`` and ``/v1.1{rule}``."""
    name = view.__name__
    bp.add_url_rule(f"/v1.0/<tenant>{rule}", f"{name}_v10", view, methods=methods)
    bp.add_url_rule(f"/v1.1{rule}", f"{name}_v11", view, methods=methods)


def describe_both(method: str, rule: str, summary: str, tag: str, **kwargs) -> None:
    """OpenAPI entries for both versions of a route."""
    path = openapi.flask_rule_to_openapi(rule)
    openapi.describe(method, f"/v1.0/{{tenant}}{path}", summary, tag, **kwargs)
    openapi.describe(method, f"/v1.1{path}", summary, tag, **kwargs)


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
