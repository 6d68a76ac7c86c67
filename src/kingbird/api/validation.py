"""Strict checks of request input: every refusal names what is wrong.

Nothing here evaluates input; JSON is parsed by the standard library only.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from flask import request

from kingbird.core import exceptions
from kingbird.quota.keys import QUOTA_KEYS
from kingbird.quota.limits import MAX_LIMIT, UNLIMITED

# Keystone project ids are UUID4 hex; accept the dashed form too.
_PROJECT_ID = re.compile(
    r"^(?:[0-9a-fA-F]{32}|[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12})$")
_CLASS_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,255}$")
_MAX_DEPTH = 32


def project_id(value: str, what: str = "project id") -> str:
    """:raises BadRequest: when ``value`` cannot be a Keystone project id."""
    if not _PROJECT_ID.match(value or ""):
        raise exceptions.BadRequest(f"{what} {_shorten(value)!r} is not a valid project id")
    return value


def class_name(value: str) -> str:
    if not _CLASS_NAME.match(value or ""):
        raise exceptions.BadRequest(
            f"quota class name {_shorten(value)!r} is invalid: use 1-255 letters, digits, "
            "'_', '-' or '.'")
    return value


def _shorten(value: str, width: int = 60) -> str:
    return value if len(value) <= width else value[:width] + "..."


def _depth(value, level: int = 0) -> int:
    if level > _MAX_DEPTH:
        return level
    if isinstance(value, dict):
        return max((_depth(v, level + 1) for v in value.values()), default=level + 1)
    if isinstance(value, list):
        return max((_depth(v, level + 1) for v in value), default=level + 1)
    return level


def json_body(required: bool = True, parse: Callable[[bytes], Any] = json.loads):
    """The request body parsed as JSON; None when absent and not ``required``.

    ``parse`` reads the raw bytes (``json.loads``, or a resource's more tolerant
    reader of the same data) and raises ``ValueError`` for a malformed body.

    :raises BadRequest: not JSON, nested deeper than any valid request, or absent.
    :raises UnsupportedMediaType: a body sent with a non-JSON content type.
    """
    raw = request.get_data(cache=True)
    if not raw.strip():
        if required:
            raise exceptions.BadRequest("a JSON request body is required")
        return None
    ctype = request.mimetype or ""
    if ctype and ctype != "application/json" and not ctype.endswith("+json"):
        raise exceptions.UnsupportedMediaType(
            f"content type {ctype!r} is not supported: send application/json")
    try:
        body = parse(raw)
    except (ValueError, RecursionError) as exc:
        raise exceptions.BadRequest(f"request body is not valid JSON: {exc}") from None
    if _depth(body) > _MAX_DEPTH:
        raise exceptions.BadRequest("request body is nested too deeply")
    return body


def member(body, key: str, kind: type, what: str | None = None):
    """``body[key]`` checked to be a ``kind``."""
    if not isinstance(body, dict) or key not in body:
        raise exceptions.BadRequest(f"missing '{what or key}' in request body")
    value = body[key]
    if not isinstance(value, kind):
        raise exceptions.BadRequest(
            f"'{what or key}' must be {_KIND_NAMES.get(kind, kind.__name__)}")
    return value


_KIND_NAMES = {dict: "an object", list: "a list", str: "a string"}


def _no_extra_keys(body: dict, *allowed: str) -> None:
    extra = set(body) - set(allowed)
    if extra:
        names = ", ".join(repr(_shorten(str(k))) for k in sorted(map(str, extra)))
        raise exceptions.BadRequest(f"unexpected keys in request body: {names}")


def quota_limits(body, wrapper: str) -> dict[str, int]:
    """``{wrapper: {key: limit}}`` → ``{key: limit}``, every key and value checked."""
    if not isinstance(body, dict):
        raise exceptions.BadRequest(f"request body must be an object with '{wrapper}'")
    given = member(body, wrapper, dict)
    _no_extra_keys(body, wrapper)
    if not given:
        raise exceptions.BadRequest(f"'{wrapper}' must name at least one quota key")
    limits: dict[str, int] = {}
    for key, value in given.items():
        if key not in QUOTA_KEYS:
            raise exceptions.BadRequest(
                f"unknown quota key {_shorten(str(key))!r}; known keys: {', '.join(QUOTA_KEYS)}")
        if isinstance(value, bool) or not isinstance(value, int):
            raise exceptions.BadRequest(f"limit of '{key}' must be an integer, got {value!r:.40}")
        if value < UNLIMITED or value > MAX_LIMIT:
            raise exceptions.BadRequest(
                f"limit of '{key}' must be between -1 (unlimited) and {MAX_LIMIT}, got {value}")
        limits[key] = value
    return limits


def quota_key_list(body, wrapper: str) -> list[str]:
    """``{wrapper: [key, ...]}`` → the keys, each known."""
    if not isinstance(body, dict):
        raise exceptions.BadRequest(f"request body must be an object with '{wrapper}'")
    keys = member(body, wrapper, list)
    _no_extra_keys(body, wrapper)
    if not keys:
        raise exceptions.BadRequest(f"'{wrapper}' must list at least one quota key")
    for key in keys:
        if not isinstance(key, str) or key not in QUOTA_KEYS:
            raise exceptions.BadRequest(
                f"unknown quota key {_shorten(str(key))!r}; known keys: {', '.join(QUOTA_KEYS)}")
    return list(dict.fromkeys(keys))
