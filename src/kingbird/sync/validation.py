"""``os-sync`` requests read into resource sets, and the job entries they plan (pure).

The body is checked against ``kingbird.sync.schemas.CREATE_JOB``, the schema
``/openapi.json`` publishes; what it cannot say (the size of a job, that the
regions exist and a source is not also a target) is checked here after it.
Every refusal names the field at fault.

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

from kingbird.api import validation
from kingbird.core import exceptions
from kingbird.sync import schemas

MAX_ENTRIES = 500
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


def _names(value: str | list[str]) -> tuple[str, ...]:
    """A region or a list of names, in order, each once."""
    return tuple(dict.fromkeys([value] if isinstance(value, str) else value))


def _spec(body: dict, field: str) -> SyncSpec:
    return SyncSpec(field, body["resource_type"], _names(body["resources"]),
                    _names(body["source"]), _names(body["target"]),
                    _FORCE[body.get("force", False)])


def sync_request(body: Any) -> list[SyncSpec]:
    """The resource sets of a create-job body, checked against ``schemas.CREATE_JOB``
    and against the size of a job.

    :raises BadRequest: naming the missing, malformed or unexpected field.
    """
    resource_set = validation.checked(schemas.CREATE_JOB, body)["resource_set"]
    if "Sync" in resource_set:
        specs = [_spec(item, f"resource_set.Sync[{i}]")
                 for i, item in enumerate(resource_set["Sync"])]
    else:
        specs = [_spec(resource_set, "resource_set")]
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
                        f"unknown region {region!r:.80} in '{spec.field}.{key}'; "
                        f"known regions: {', '.join(sorted(known_set)) or 'none'}")
        both = [r for r in spec.targets if r in spec.sources]
        if both:
            raise exceptions.BadRequest(
                f"region {both[0]!r} is the source and cannot be in "
                f"'{spec.field}.target'")


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
