"""JSON schemas of the ``os-dr`` routes, for the OpenAPI document."""

from __future__ import annotations

from kingbird.dr.models import (
    DR_METHODS,
    OPERATION_KINDS,
    OPERATION_STATUSES,
    PLAN_STATUSES,
    RESTORE_POINT_STATUSES,
)
from kingbird.dr.validation import MAX_INTERVAL, MAX_RETENTION, MAX_SERVERS, MIN_INTERVAL

_TIME = {"type": "string", "format": "date-time", "nullable": True}
_TEXT = {"type": "string", "nullable": True}
_ERROR = {"type": "object"}
_INTERVAL = {"type": "integer", "minimum": MIN_INTERVAL, "maximum": MAX_INTERVAL}
_RETENTION = {"type": "integer", "minimum": 1, "maximum": MAX_RETENTION}

_PLAN = {"type": "object", "required": ["id", "name", "method", "source_region",
                                        "recovery_region", "current_region", "servers",
                                        "status"],
         "properties": {
             "id": {"type": "string"}, "name": {"type": "string"}, "description": _TEXT,
             "project_id": {"type": "string"},
             "method": {"type": "string", "enum": list(DR_METHODS)},
             "source_region": {"type": "string"}, "recovery_region": {"type": "string"},
             "current_region": {"type": "string"},
             "servers": {"type": "array", "items": {"type": "string"}},
             "interval": {"type": "integer"}, "retention": {"type": "integer"},
             "status": {"type": "string", "enum": list(PLAN_STATUSES)}, "error": _TEXT,
             "next_restore_point_at": _TIME, "created_at": _TIME, "updated_at": _TIME,
             "restore_points": {"type": "integer"},
             "latest_restore_point": {"type": "object", "nullable": True}}}
_CREATE = {"type": "object", "required": ["plan"], "additionalProperties": False,
           "properties": {"plan": {
               "type": "object", "additionalProperties": False,
               "required": ["name", "servers", "source_region", "recovery_region"],
               "properties": {
                   "name": {"type": "string", "minLength": 1, "maxLength": 255},
                   "description": {"type": "string", "maxLength": 1024},
                   "servers": {"type": "array", "minItems": 1, "maxItems": MAX_SERVERS,
                               "uniqueItems": True, "items": {"type": "string"}},
                   "source_region": {"type": "string"}, "recovery_region": {"type": "string"},
                   "method": {"type": "string", "enum": list(DR_METHODS),
                              "default": "snapshot-backup"},
                   "interval": {**_INTERVAL, "default": 3600},
                   "retention": {**_RETENTION, "default": 3}}}}}
_UPDATE = {"type": "object", "required": ["plan"], "additionalProperties": False,
           "properties": {"plan": {
               "type": "object", "additionalProperties": False, "minProperties": 1,
               "properties": {"name": {"type": "string", "minLength": 1, "maxLength": 255},
                              "description": {"type": "string", "maxLength": 1024},
                              "interval": _INTERVAL, "retention": _RETENTION}}}}
_ONE_PLAN = {"type": "object", "required": ["plan"], "properties": {"plan": _PLAN}}
_PLANS = {"type": "object", "required": ["plans"],
          "properties": {"plans": {"type": "array", "items": _PLAN}}}
_STEP = {"type": "object", "required": ["name", "description", "status"],
         "properties": {"name": {"type": "string"}, "description": {"type": "string"},
                        "status": {"type": "string", "enum": [
                            "PENDING", "RUNNING", "DONE", "FAILED", "SKIPPED"]},
                        "detail": _TEXT, "items": {"type": "array",
                                                   "items": {"type": "string"}},
                        "started_at": _TIME, "finished_at": _TIME}}
_POINT = {"type": "object", "required": ["id", "plan_id", "status", "taken_at", "size_gb"],
          "properties": {
              "id": {"type": "string"}, "plan_id": {"type": "string"},
              "sequence": {"type": "integer"},
              "status": {"type": "string", "enum": list(RESTORE_POINT_STATUSES)},
              "purpose": {"type": "string"}, "method": {"type": "string"},
              "region": {"type": "string"}, "target_region": {"type": "string"},
              "taken_at": _TIME, "completed_at": _TIME, "created_at": _TIME,
              "size_gb": {"type": "integer"}, "volumes": {"type": "integer"},
              "incremental": {"type": "boolean"}, "error": _TEXT,
              "steps": {"type": "array", "items": _STEP},
              "shape": {"type": "object", "nullable": True},
              "backups": {"type": "array", "items": {"type": "object"}}}}
_POINTS = {"type": "object", "required": ["restore_points"],
           "properties": {"restore_points": {"type": "array", "items": _POINT}}}
_OPERATION = {"type": "object", "required": ["id", "plan_id", "kind", "status", "steps"],
              "properties": {
                  "id": {"type": "string"}, "plan_id": {"type": "string"},
                  "project_id": {"type": "string"},
                  "kind": {"type": "string", "enum": list(OPERATION_KINDS)},
                  "status": {"type": "string", "enum": list(OPERATION_STATUSES)},
                  "restore_point_id": _TEXT, "from_region": {"type": "string"},
                  "to_region": {"type": "string"}, "requested_by": {"type": "string"},
                  "error": _TEXT, "created_at": _TIME, "started_at": _TIME,
                  "finished_at": _TIME, "progress": {"type": "string"},
                  "steps": {"type": "array", "items": _STEP}}}
_ONE_OPERATION = {"type": "object", "required": ["operation"],
                  "properties": {"operation": _OPERATION}}
_DRY_RUN = {"type": "object", "required": ["dry_run"], "properties": {"dry_run": {
    "type": "object", "required": ["kind", "from_region", "to_region", "steps"],
    "properties": {"plan_id": {"type": "string"}, "kind": {"type": "string"},
                   "from_region": {"type": "string"}, "to_region": {"type": "string"},
                   "restore_point": _TEXT, "restore_point_taken_at": _TIME,
                   "steps": {"type": "array", "items": _STEP}}}}}


def _recovery_body(action: str, with_point: bool) -> dict:
    properties: dict = {"dry_run": {"type": "boolean", "default": False}}
    if with_point:
        properties["restore_point"] = {"type": "string",
                                       "description": "default: the newest available"}
    return {"type": "object", "required": [action], "additionalProperties": False,
            "properties": {action: {"type": "object", "additionalProperties": False,
                                    "properties": properties}}}


_PLAN_RULE = "/os-dr/plans/<plan_id>"
_POINT_RULE = f"{_PLAN_RULE}/restore-points/<point_id>"

OPENAPI: dict[tuple[str, str], dict] = {
    ("POST", "/os-dr/plans"): {"request": _CREATE, "responses": {
        201: _ONE_PLAN, 409: _ERROR, 502: _ERROR, 503: _ERROR}},
    ("GET", "/os-dr/plans"): {"responses": {200: _PLANS}},
    ("GET", _PLAN_RULE): {"responses": {200: _ONE_PLAN}},
    ("PUT", _PLAN_RULE): {"request": _UPDATE, "responses": {200: _ONE_PLAN, 409: _ERROR}},
    ("DELETE", _PLAN_RULE): {"responses": {202: {"type": "object"}, 409: _ERROR}},
    ("POST", f"{_PLAN_RULE}/restore-points"): {
        "request": {"type": "object"}, "request_required": False,
        "responses": {202: {"type": "object"}, 409: _ERROR}},
    ("GET", f"{_PLAN_RULE}/restore-points"): {"responses": {200: _POINTS}},
    ("GET", _POINT_RULE): {"responses": {200: {
        "type": "object", "required": ["restore_point"],
        "properties": {"restore_point": _POINT}}}},
    ("DELETE", _POINT_RULE): {"responses": {202: {"type": "object"}, 409: _ERROR}},
    ("POST", f"{_PLAN_RULE}/failover"): {
        "request": _recovery_body("failover", True), "request_required": False,
        "responses": {200: _DRY_RUN, 202: _ONE_OPERATION, 409: _ERROR}},
    ("POST", f"{_PLAN_RULE}/failback"): {
        "request": _recovery_body("failback", False), "request_required": False,
        "responses": {200: _DRY_RUN, 202: _ONE_OPERATION, 409: _ERROR}},
    ("GET", "/os-dr/operations"): {"responses": {200: {
        "type": "object", "required": ["operations"],
        "properties": {"operations": {"type": "array", "items": _OPERATION}}}}},
    ("GET", "/os-dr/operations/<operation_id>"): {"responses": {200: _ONE_OPERATION}},
}
