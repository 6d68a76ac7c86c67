"""Strict checks of ``os-sync`` requests, and the job entries they plan (pure).

Two body forms are accepted, as the user guide and the ``kingbird`` client send
them: one resource set (``{"resource_set": {"resources", "resource_type",
"source", "target", "force"}}``) or a template (``{"resource_set": {"Sync":
[<resource set>, ...]}}``). Every refusal names the field at fault.

The original service evaluated the body as Python, so its documented curl line
``"force": True`` worked; here the body is JSON, read by the standard library
only, after turning bare ``True``/``False`` tokens outside strings into JSON's
``true``/``false`` — nothing is ever evaluated.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kingbird.core import exceptions
from kingbird.sync.models import RESOURCE_TYPES

MAX_ENTRIES = 500
MAX_NAME = 255
_SET_KEYS = ("resources", "resource_type", "source", "target", "force")
_FORCE = {True: True, False: False, "True": True, "False": False}


@dataclass(frozen=True)
class SyncSpec:
    """One resource set of a request: copy ``resources`` of ``resource_type``
    from the first of ``sources`` that has each into every ``targets``."""

    field: str  # where it is in the body, for messages: resource_set, resource_set.Sync[1]
    resource_type: str
    resources: tuple[str, ...]
    sources: tuple[str, ...]
    targets: tuple[str, ...]
    force: bool


def python_booleans_to_json(text: str) -> str:
    """``text`` with bare ``True``/``False`` tokens outside strings written as
    ``true``/``false``; anything else untouched (pure)."""
    out: list[str] = []
    i, n = 0, len(text)
    in_string = False
    while i < n:
        char = text[i]
        if in_string:
            if char == "\\":
                out.append(text[i:i + 2])
                i += 2
                continue
            in_string = char != '"'
            out.append(char)
            i += 1
            continue
        if char == '"':
            in_string = True
        elif char in "TF" and (i == 0 or not _word_char(text[i - 1])):
            for word in ("True", "False"):
                end = i + len(word)
                if text.startswith(word, i) and (end == n or not _word_char(text[end])):
                    out.append(word.lower())
                    i = end
                    break
            else:
                out.append(char)
                i += 1
            continue
        out.append(char)
        i += 1
    return "".join(out)


def _word_char(char: str) -> bool:
    return char.isalnum() or char == "_"


def loads(raw: bytes) -> Any:
    """Parse a request body: JSON, or JSON with Python's ``True``/``False``.

    :raises ValueError: neither.
    """
    try:
        return json.loads(raw)
    except ValueError as first:
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise first from None
        fixed = python_booleans_to_json(text)
        if fixed == text:
            raise
        try:
            return json.loads(fixed)
        except ValueError:
            raise first from None


def _field(path: str, key: str) -> str:
    return f"{path}.{key}"


def _require(body: Mapping, path: str, key: str):
    if key not in body:
        raise exceptions.BadRequest(f"missing '{_field(path, key)}' in request body")
    return body[key]


def _name(value: Any, field: str, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise exceptions.BadRequest(f"'{field}' must contain non-empty strings ({what}), "
                                    f"got {value!r:.60}")
    if len(value) > MAX_NAME:
        raise exceptions.BadRequest(f"'{field}': {what} longer than {MAX_NAME} characters")
    return value


def _names(value: Any, field: str, what: str, allow_single: bool) -> tuple[str, ...]:
    if isinstance(value, str) and allow_single:
        value = [value]
    if not isinstance(value, list) or not value:
        form = "a region name or a non-empty list of them" if allow_single \
            else "a non-empty list"
        raise exceptions.BadRequest(f"'{field}' must be {form}")
    return tuple(dict.fromkeys(_name(v, field, what) for v in value))


def parse_force(value: Any, field: str) -> bool:
    """``true``/``false``, or the strings ``"True"``/``"False"`` the kingbird client sends."""
    if isinstance(value, bool | str) and value in _FORCE:
        return _FORCE[value]
    raise exceptions.BadRequest(f"'{field}' must be true or false (or \"True\"/\"False\"), "
                                f"got {value!r:.40}")


def _spec(body: Any, path: str) -> SyncSpec:
    if not isinstance(body, dict):
        raise exceptions.BadRequest(f"'{path}' must be an object")
    unknown = sorted(set(body) - set(_SET_KEYS))
    if unknown:
        raise exceptions.BadRequest(f"unexpected keys in '{path}': {unknown}")
    resource_type = _require(body, path, "resource_type")
    if resource_type not in RESOURCE_TYPES:
        raise exceptions.BadRequest(
            f"unknown '{_field(path, 'resource_type')}' {str(resource_type)!r:.60}; "
            f"known types: {', '.join(RESOURCE_TYPES)}")
    resources = _names(_require(body, path, "resources"), _field(path, "resources"),
                       f"{resource_type} names or ids", allow_single=False)
    sources = _names(_require(body, path, "source"), _field(path, "source"), "region names",
                     allow_single=True)
    targets = _names(_require(body, path, "target"), _field(path, "target"), "region names",
                     allow_single=True)
    force = parse_force(body.get("force", False), _field(path, "force"))
    return SyncSpec(path, resource_type, resources, sources, targets, force)


def sync_request(body: Any) -> list[SyncSpec]:
    """The resource sets of a create-job body, each field checked.

    :raises BadRequest: naming the missing, malformed or unexpected field.
    """
    if not isinstance(body, dict):
        raise exceptions.BadRequest("request body must be an object with 'resource_set'")
    unknown = sorted(set(body) - {"resource_set"})
    if unknown:
        raise exceptions.BadRequest(f"unexpected keys in request body: {unknown}")
    if "resource_set" not in body:
        raise exceptions.BadRequest("missing 'resource_set' in request body")
    resource_set = body["resource_set"]
    if not isinstance(resource_set, dict):
        raise exceptions.BadRequest("'resource_set' must be an object")
    if "Sync" not in resource_set:
        specs = [_spec(resource_set, "resource_set")]
    else:
        others = sorted(set(resource_set) - {"Sync"})
        if others:
            raise exceptions.BadRequest(
                f"'resource_set' takes either 'Sync' (a template) or a single resource set, "
                f"not both: unexpected {others}")
        template = resource_set["Sync"]
        if not isinstance(template, list) or not template:
            raise exceptions.BadRequest("'resource_set.Sync' must be a non-empty list")
        specs = [_spec(item, f"resource_set.Sync[{i}]") for i, item in enumerate(template)]
    count = sum(len(s.resources) * len(s.targets) for s in specs)
    if count > MAX_ENTRIES:
        raise exceptions.BadRequest(f"a job may copy at most {MAX_ENTRIES} resource-region "
                                    f"pairs; this one asks for {count}")
    return specs


def check_regions(specs: list[SyncSpec], known: list[str]) -> None:
    """Every region exists, and no region is both a source and a target of a set.

    :raises BadRequest: naming the field and the region.
    """
    known_set = set(known)
    for spec in specs:
        for key, regions in (("source", spec.sources), ("target", spec.targets)):
            for region in regions:
                if region not in known_set:
                    raise exceptions.BadRequest(
                        f"unknown region {region!r:.80} in '{_field(spec.field, key)}'; "
                        f"known regions: {', '.join(sorted(known_set)) or 'none'}")
        both = [r for r in spec.targets if r in spec.sources]
        if both:
            raise exceptions.BadRequest(
                f"region {both[0]!r} is the source and cannot be in "
                f"'{_field(spec.field, 'target')}'")


@dataclass(frozen=True)
class Located:
    """Where a requested resource was found: its source region and identity."""

    source: str
    identity: str  # the resource's id (or a keypair's name): two requests for it are one


def plan_entries(specs: list[SyncSpec],
                 located: Mapping[tuple[int, str], Located]) -> list[dict]:
    """The job's entries: one per (resource, target region), each resource copied
    once per target even if the request names it twice (pure).

    :param located: (index of the spec, resource as given) → where it was found.
    """
    entries: dict[tuple[str, str, str], dict] = {}
    for index, spec in enumerate(specs):
        for resource in spec.resources:
            where = located[(index, resource)]
            for target in spec.targets:
                if target == where.source:
                    continue
                key = (spec.resource_type, where.identity, target)
                entries.setdefault(key, {
                    "resource": resource, "resource_type": spec.resource_type,
                    "source_region": where.source, "target_region": target,
                    "force": spec.force,
                })
    return list(entries.values())
