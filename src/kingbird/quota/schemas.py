"""JSON Schemas of the quota routes: the request bodies the handlers check
(``kingbird.api.validation.checked``) and ``/openapi.json`` publishes, and the
answers; plus the check of a quota class name in the path."""

from __future__ import annotations

import re

from kingbird.api.validation import shorten
from kingbird.core import exceptions
from kingbird.quota.keys import QUOTA_KEYS
from kingbird.quota.limits import MAX_LIMIT, UNLIMITED

_CLASS_NAME = re.compile(r"[A-Za-z0-9_.-]{1,255}")


def class_name(value: str) -> str:
    """:raises BadRequest: ``value`` cannot name a quota class."""
    if not _CLASS_NAME.fullmatch(value or ""):
        raise exceptions.BadRequest(
            f"quota class name {shorten(value)!r} is invalid: use 1-255 letters, digits, "
            "'_', '-' or '.'")
    return value


_LIMIT = {"type": "integer", "minimum": UNLIMITED, "maximum": MAX_LIMIT,
          "x-message": f"'$field' must be an integer from {UNLIMITED} (unlimited) to "
                       f"{MAX_LIMIT}, got $value"}


def _limits_body(wrapper: str) -> dict:
    """``{wrapper: {key: limit, ...}}``: at least one known key, each a limit."""
    return {"type": "object", "required": [wrapper], "additionalProperties": False,
            "properties": {wrapper: {
                "type": "object", "minProperties": 1, "additionalProperties": False,
                "properties": {k: _LIMIT for k in QUOTA_KEYS},
                "x-message": {"minProperties": "'$field' must name at least one quota key"}}}}


UPDATE = _limits_body("quota_set")
UPDATE_CLASS = _limits_body("quota_class_set")
DELETE = {"type": "object", "required": ["quota_set"], "additionalProperties": False,
          "properties": {"quota_set": {
              "type": "array", "minItems": 1,
              "items": {"type": "string", "enum": list(QUOTA_KEYS)},
              "x-message": {"minItems": "'$field' must list at least one quota key"}}}}

# --- answers ------------------------------------------------------------------------

_ALL_KEYS = {"type": "object", "required": list(QUOTA_KEYS),
             "properties": {k: {"type": "integer"} for k in QUOTA_KEYS},
             "additionalProperties": False}
QUOTA_SET = {"type": "object", "required": ["quota_set"],
             "properties": {"quota_set": _ALL_KEYS}}
UPDATED = {"type": "object", "required": ["quota_set"],
           "properties": {"quota_set": {"type": "object",
                                        "additionalProperties": {"type": "integer"}}}}
DETAIL = {"type": "object", "required": ["quota_set"], "properties": {"quota_set": {
    "type": "object", "required": ["limits", "usage"],
    "properties": {"limits": _ALL_KEYS, "usage": _ALL_KEYS, "remaining": _ALL_KEYS,
                   "regions": {"type": "object"}, "missing_regions": {"type": "object"},
                   "last_sync": {"type": ["object", "null"], "nullable": True}}}}}
SYNC = {"type": "object", "required": ["quota_sync"]}
CLASS_SET = {"type": "object", "required": ["quota_class_set"], "properties": {
    "quota_class_set": {"type": "object", "required": ["class_name", *QUOTA_KEYS],
                        "properties": {"class_name": {"type": "string"},
                                       **{k: {"type": "integer"} for k in QUOTA_KEYS}}}}}
