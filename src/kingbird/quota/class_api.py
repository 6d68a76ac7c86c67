"""Quota classes: ``os-quota-class-sets``. The ``default`` class feeds the defaults."""

from __future__ import annotations

from flask import Blueprint

from kingbird.api import validation
from kingbird.api.app_services import services
from kingbird.api.responses import json_response
from kingbird.api.routing import authorise, both_versions, check_tenant, describe_both
from kingbird.core import exceptions
from kingbird.quota import limits as quota_limits
from kingbird.quota import options as quota_options
from kingbird.quota import repository as quota_db
from kingbird.quota import schemas

bp = Blueprint("quota_classes", __name__)

POLICY = "kingbird:quota_class"


def _class_view(session, class_name: str):
    """The class as it stands: like Nova, every key, what the class sets or else the
    configured default."""
    stored = quota_db.get_class_limits(session, class_name)
    defaults = quota_options.default_global_limits(services().conf)
    limits = quota_limits.default_limits(stored, defaults)
    return json_response({"quota_class_set": {"class_name": class_name, **limits}})


def show(class_name: str, tenant: str | None = None):
    check_tenant(tenant)
    schemas.class_name(class_name)
    authorise(f"{POLICY}:show", {})
    with services().db() as session:
        return _class_view(session, class_name)


def update(class_name: str, tenant: str | None = None):
    check_tenant(tenant)
    schemas.class_name(class_name)
    authorise(f"{POLICY}:update", {})
    limits = validation.request_body(schemas.UPDATE_CLASS)["quota_class_set"]
    with services().db() as session:
        quota_db.set_class_limits(session, class_name, limits)
        # The whole class, as the original service answered (not only the keys sent).
        # Projects that follow the defaults pick the change up at their next periodic sync.
        return _class_view(session, class_name)


def delete(class_name: str, tenant: str | None = None):
    check_tenant(tenant)
    schemas.class_name(class_name)
    authorise(f"{POLICY}:delete", {})
    with services().db() as session:
        if not quota_db.delete_class(session, class_name):
            raise exceptions.NotFound(f"quota class {class_name!r} has no limits set")
    return json_response({"deleted": class_name})


both_versions(bp, "/os-quota-class-sets/<class_name>", show, ["GET"])
both_versions(bp, "/os-quota-class-sets/<class_name>", update, ["PUT"])
both_versions(bp, "/os-quota-class-sets/<class_name>", delete, ["DELETE"])

describe_both("GET", "/os-quota-class-sets/<class_name>", "Show a quota class",
              "quota_classes", responses={200: schemas.CLASS_SET})
describe_both("PUT", "/os-quota-class-sets/<class_name>", "Create or change a quota class",
              "quota_classes", request=schemas.UPDATE_CLASS, responses={200: schemas.CLASS_SET})
describe_both("DELETE", "/os-quota-class-sets/<class_name>", "Delete a quota class",
              "quota_classes", responses={200: {"type": "object"}})
