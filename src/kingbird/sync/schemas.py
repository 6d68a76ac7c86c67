"""JSON Schemas of the ``os-sync`` routes: the body of a new job, which
``kingbird.sync.validation`` checks and ``/openapi.json`` publishes, and the answers.

A job body is one resource set (``{"resource_set": {"resources", "resource_type",
"source", "target", "force"}}``) or a template of several (``{"resource_set":
{"Sync": [<resource set>, ...]}}``), as the user guide and the ``kingbird`` client
send them.
"""

from __future__ import annotations

from kingbird.api import pagination
from kingbird.sync.models import JOB_STATUSES, RESOURCE_TYPES

MAX_NAME = 255
# A name or id: not blank, as Nova, Glance and Neutron would take it.
_NAME = {"type": "string", "maxLength": MAX_NAME, "pattern": r"\S"}
_FORCE_MESSAGE = "'$field' must be true or false (or \"True\"/\"False\"), got $value"


def _names(what: str) -> dict:
    return {"type": "array", "minItems": 1,
            "items": {**_NAME, "x-message": f"'$parent' must contain non-blank strings ({what}) "
                                            f"of at most {MAX_NAME} characters, got $value"},
            "x-message": "'$field' must be a non-empty list"}


_REGION = {**_NAME, "x-message": f"'$field' must be a region name (not blank, at most "
                                 f"{MAX_NAME} characters), got $value"}
_REGIONS = {"oneOf": [_REGION, _names("region names")],
            "x-message": "'$field' must be a region name or a non-empty list of them"}
RESOURCE_SET = {
    "type": "object", "required": ["resource_type", "resources", "source", "target"],
    "additionalProperties": False,
    "properties": {"resource_type": {"type": "string", "enum": list(RESOURCE_TYPES)},
                   "resources": _names("names or ids"),
                   "source": _REGIONS, "target": _REGIONS,
                   # The kingbird client sends the strings; the user guide, booleans.
                   "force": {"oneOf": [{"type": "boolean"},
                                       {"type": "string", "enum": ["True", "False"],
                                        "x-message": _FORCE_MESSAGE}],
                             "x-message": _FORCE_MESSAGE}}}
TEMPLATE = {"type": "object", "required": ["Sync"], "additionalProperties": False,
            "properties": {"Sync": {"type": "array", "minItems": 1, "items": RESOURCE_SET,
                                    "x-message": "'$field' must be a non-empty list"}},
            "x-message": {"additionalProperties": "'$field' takes either 'Sync' (a template) "
                                                  "or a single resource set, not both"}}
CREATE_JOB = {"type": "object", "required": ["resource_set"], "additionalProperties": False,
              "properties": {"resource_set": {
                  "oneOf": [RESOURCE_SET, TEMPLATE],
                  "x-message": "'$field' must be a resource set ({resources, resource_type, "
                               "source, target, force}) or a template ({Sync: [resource "
                               "sets]})"}}}

# --- answers ------------------------------------------------------------------------

_STATUS = {"type": "string", "enum": list(JOB_STATUSES)}
_TIME = {"type": "string", "format": "date-time"}
CREATED = {"type": "object", "required": ["job_status"], "properties": {"job_status": {
    "type": "object", "required": ["id", "status", "created_at"],
    "properties": {"id": {"type": "string"}, "status": _STATUS, "created_at": _TIME}}}}
JOBS = {"type": "object", "required": ["job_set"], "properties": {"job_set": {
    "type": "array", "items": {
        "type": "object", "required": ["id", "sync_status", "created_at", "updated_at"],
        "properties": {"id": {"type": "string"}, "sync_status": _STATUS,
                       "created_at": _TIME, "updated_at": _TIME}}}}}
JOBS = pagination.with_links(JOBS, "job_set")
ENTRIES = {"type": "object", "required": ["job_set"], "properties": {"job_set": {
    "type": "array", "items": {
        "type": "object",
        "required": ["id", "resource", "source_region", "target_region", "resource_type",
                     "sync_status", "created_at", "updated_at"],
        "properties": {"id": {"type": "string"}, "entry_id": {"type": "integer"},
                       "resource": {"type": "string"}, "resource_type": {"type": "string"},
                       "source_region": {"type": "string"},
                       "target_region": {"type": "string"}, "sync_status": _STATUS,
                       "error": {"type": "string", "nullable": True},
                       "created_at": _TIME, "updated_at": _TIME}}}}}
DELETED = {"type": "object", "required": ["job_status"]}
