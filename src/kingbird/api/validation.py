"""Request input: JSON bodies read strictly, then checked against the JSON Schemas
that ``/openapi.json`` publishes, so the document and the checks cannot disagree.

Each feature keeps the schemas of its request bodies in its ``schemas.py`` and
passes them both to ``describe`` (the OpenAPI document) and to ``checked`` here.
Every refusal is a ``BadRequest`` whose message names the field at fault, as a
path into the body (``resource_set.Sync[1].target``); what a schema cannot say
(a region exists, a CIDR parses, two fields agree) is the feature's, checked by
small named functions after the schema.

Schemas are OpenAPI 3.0 Schema Objects: JSON Schema draft 4 (integers are never
booleans nor floats) plus ``nullable``, translated here. Their wording may be
chosen per schema with ``x-message``: a text for any failure of that schema's own
keywords, or a mapping from keyword (``minItems``, ``oneOf``...) to text. The text
may use ``$field`` (the path), ``$parent`` (the path of the enclosing object or
list), ``$value`` (what was given, shortened) and, for ``uniqueItems``,
``$duplicate`` (the first repeated item).

Before any schema, every body is checked for what no column of any database can
store and no region can be sent: strings with a NUL character (PostgreSQL refuses
them) or a lone UTF-16 surrogate (not Unicode: nothing encodes it as UTF-8),
numbers that are not finite, and integers beyond 64 bits; a field stored in a
narrower column says so with its schema's ``maximum``. Path parameters and query
arguments are checked as text too (``path_text``), and ids that are UUIDs as
UUIDs (``uuid_id``), before any query.

Nothing here evaluates input; JSON is parsed by the standard library only.
"""

from __future__ import annotations

import json
import math
import re
import string
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import jsonschema
from flask import request

from kingbird.core import exceptions

# Keystone project ids are UUID4 hex; accept the dashed form too.
_PROJECT_ID = re.compile(
    r"^(?:[0-9a-fA-F]{32}|[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12})$")
_UUID = re.compile(r"^[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}$")
_MAX_DEPTH = 32
# The widest integer column of any database (BIGINT): signed 64 bits.
MAX_INTEGER = 2**63 - 1
# In a body: NUL (PostgreSQL stores no NUL in text) and lone surrogates (not Unicode).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
# In a path or a query: any control character too (no id or name holds one).
_NOT_IN_PATHS = re.compile("[\x00-\x1f\x7f\ud800-\udfff]")
_VALIDATOR = jsonschema.Draft4Validator
_TOGETHER = ("required", "additionalProperties")
_KINDS = {"object": "an object", "array": "a list", "string": "a string",
          "integer": "an integer", "number": "a number", "boolean": "true or false",
          "null": "null"}


def project_id(value: str, what: str = "project id") -> str:
    """:raises BadRequest: when ``value`` cannot be a Keystone project id."""
    if not _PROJECT_ID.match(value or ""):
        raise exceptions.BadRequest(f"{what} {shorten(value)!r} is not a valid project id")
    return value


def uuid_id(value: str, what: str) -> str:
    """``value``, once it can be the id of an object Kingbird created (a UUID).

    :raises NotFound: naming ``what``: no object has such an id.
    """
    if not _UUID.match(value):
        raise exceptions.NotFound(f"{what} {shorten(value)!r} is not a UUID: no such object")
    return value


def path_text(value: str, what: str) -> str:
    """``value`` (a path parameter or a query argument), once it is plain text.

    :raises BadRequest: naming ``what``: it holds a control character or a lone surrogate.
    """
    found = _NOT_IN_PATHS.search(value)
    if found:
        raise exceptions.BadRequest(
            f"{what} {shorten(value)!r} is invalid: it holds {_describe(found.group())}")
    return value


def _describe(char: str) -> str:
    if "\ud800" <= char <= "\udfff":
        return f"a lone UTF-16 surrogate ({char!r:.10}), which is not Unicode text"
    return "a NUL character" if char == "\x00" else f"the control character {char!r}"


def shorten(value: str, width: int = 60) -> str:
    """``value`` cut to ``width`` characters, for quoting user input in a message."""
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
    _check_storable(body, [])
    return body


def _check_storable(value: Any, path: list) -> None:
    """:raises BadRequest: naming the first string, key or number of ``value`` that no
    database column can hold."""
    if isinstance(value, str):
        found = _UNSTORABLE.search(value)
        if found:
            raise exceptions.BadRequest(f"{_where(_field(path))} is not valid text: it "
                                        f"holds {_describe(found.group())}")
    elif isinstance(value, bool):
        pass
    elif isinstance(value, int):
        if not -MAX_INTEGER - 1 <= value <= MAX_INTEGER:
            raise exceptions.BadRequest(f"{_where(_field(path))} is beyond the 64-bit "
                                        f"integer range, got {shorten(str(value), 30)}")
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise exceptions.BadRequest(f"{_where(_field(path))} must be a finite number, "
                                        f"got {value}")
    elif isinstance(value, dict):
        for key, item in value.items():
            found = _UNSTORABLE.search(key)
            if found:
                raise exceptions.BadRequest(
                    f"a key of {_where(_field(path))} is not valid text: it holds "
                    f"{_describe(found.group())}")
            _check_storable(item, [*path, key])
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_storable(item, [*path, index])


def checked(schema: Mapping, body: Any) -> Any:
    """``body``, once it satisfies ``schema`` (an OpenAPI Schema Object).

    :raises BadRequest: naming the field at fault and what is wrong with it (the
        outermost fault when there are several).
    """
    errors = list(_validator(schema).iter_errors(body))
    if errors:
        raise exceptions.BadRequest(_refusal(errors))
    return body


def request_body(schema: Mapping, required: bool = True,
                 parse: Callable[[bytes], Any] = json.loads) -> Any:
    """The request body read by ``json_body`` and ``checked`` against ``schema``;
    None when absent and not ``required``."""
    body = json_body(required=required, parse=parse)
    return None if body is None and not required else checked(schema, body)


# --- schemas as jsonschema reads them ---------------------------------------------------

# id of a schema -> (the schema, kept so that its id is not reused; its validator)
_compiled: dict[int, tuple[Mapping, jsonschema.protocols.Validator]] = {}


def _validator(schema: Mapping) -> jsonschema.protocols.Validator:
    """The validator of ``schema``, built once (schemas are module constants)."""
    entry = _compiled.get(id(schema))
    if entry is None or entry[0] is not schema:
        translated = json_schema(schema)
        _VALIDATOR.check_schema(translated)
        entry = _compiled[id(schema)] = (schema, _VALIDATOR(translated))
    return entry[1]


def json_schema(schema: Mapping) -> dict:
    """An OpenAPI Schema Object as plain JSON Schema for Python's ``re``: ``nullable:
    true`` becomes ``null`` among the types (or, without a ``type``, a ``null``
    alternative), and a ``pattern``'s final ``$`` means the end of the text, as in
    ECMA-262, not also "before a final newline" as in Python."""
    out: dict = {}
    for key, value in schema.items():
        if key == "pattern":
            value = _END_OF_TEXT.sub(r"\\Z", value)
        elif key in _SCHEMA_MAPS:
            value = {name: json_schema(sub) for name, sub in value.items()}
        elif key in _SCHEMA_LISTS or key == "items" and isinstance(value, list):
            value = [json_schema(sub) for sub in value]
        elif key in _SCHEMAS and isinstance(value, Mapping):
            value = json_schema(value)
        if key != "nullable":
            out[key] = value
    if not schema.get("nullable"):
        return out
    if "type" not in out:
        return {"anyOf": [{"type": "null"}, out]}
    out["type"] = [*_as_list(out["type"]), "null"]
    if "enum" in out and None not in out["enum"]:
        out["enum"] = [*out["enum"], None]
    return out


_SCHEMA_MAPS = ("properties", "patternProperties")
# A final "$" that is not escaped.
_END_OF_TEXT = re.compile(r"(?<!\\)\$$")
_SCHEMA_LISTS = ("allOf", "anyOf", "oneOf")
_SCHEMAS = ("items", "additionalProperties", "not")


def _as_list(value) -> list:
    return [value] if isinstance(value, str) else list(value)


# --- messages ---------------------------------------------------------------------------

def _refusal(errors: list[jsonschema.ValidationError]) -> str:
    """What the caller must fix, naming the field: the outermost fault (missing and
    unexpected keys of one object together); for a failed ``oneOf``/``anyOf``, the
    faults of the alternative the input was meant for (the only one of its type, or
    the only one of its type whose required keys it has), if that is clear."""
    first = min(errors, key=lambda e: len(e.absolute_path))
    if first.validator in ("oneOf", "anyOf") and first.context:
        branch = _intended(first.validator_value, first.instance)
        if branch is not None:
            return _refusal([e for e in first.context if e.relative_schema_path[0] == branch])
    together = [e for e in errors if e.validator in _TOGETHER
                and e.absolute_path == first.absolute_path] \
        if first.validator in _TOGETHER else [first]
    return "; ".join(dict.fromkeys(_message(e) for e in together))


def _message(error: jsonschema.ValidationError) -> str:
    """The schema's ``x-message`` for the failing keyword if it has one, else a
    wording of ours (never jsonschema's, which quotes the schema)."""
    path = list(error.absolute_path)
    custom = error.schema.get("x-message") if isinstance(error.schema, Mapping) else None
    if isinstance(custom, Mapping):
        custom = custom.get(error.validator)
    if custom:
        return string.Template(custom).safe_substitute(
            field=_field(path), parent=_field(path[:-1]), value=_show(error.instance),
            duplicate=_duplicate(error.instance) if error.validator == "uniqueItems" else "")
    return _wording(error, _field(path))


def _intended(branches: Sequence[Mapping], instance: Any) -> int | None:
    fits = [i for i, branch in enumerate(branches)
            if "type" not in branch or any(_VALIDATOR.TYPE_CHECKER.is_type(instance, kind)
                                           for kind in _as_list(branch["type"]))]
    if len(fits) > 1 and isinstance(instance, dict):
        fits = [i for i in fits if set(branches[i].get("required", ())) & set(instance)]
    return fits[0] if len(fits) == 1 else None


def _field(path: Iterable) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else f"{'.' if text else ''}{part}"
    return text


def _where(field: str) -> str:
    return f"'{field}'" if field else "request body"


def _show(value: Any) -> str:
    return shorten(repr(value), 40)


def _keys(keys: Iterable) -> str:
    return ", ".join(repr(shorten(str(k))) for k in keys)


def _duplicate(items: list) -> str:
    seen: list = []
    for item in items:
        if any(type(item) is type(other) and item == other for other in seen):
            return str(item)
        seen.append(item)
    return ""


def _wording(error: jsonschema.ValidationError, field: str) -> str:
    keyword, expected, value, schema = (error.validator, error.validator_value,
                                        error.instance, error.schema)
    where = _where(field)
    if keyword == "type":
        if not field and schema.get("required"):
            return f"request body must be an object with {_keys(schema['required'])}"
        kinds = " or ".join(_KINDS.get(kind, kind) for kind in _as_list(expected))
        return f"{where} must be {kinds}, got {_show(value)}"
    if keyword == "required":
        missing = [f"{field}.{key}" if field else key for key in expected if key not in value]
        return f"missing {_keys(missing)} in request body"
    if keyword == "additionalProperties":
        allowed = list(schema.get("properties", ()))
        patterns = list(schema.get("patternProperties", ()))
        extra = sorted(str(k) for k in value
                       if k not in allowed and not any(re.search(p, k) for p in patterns))
        return f"unexpected keys in {where}: {_keys(extra)}" + (
            f"; allowed: {', '.join(allowed)}" if allowed else "")
    if keyword == "enum":
        choices = ", ".join("null" if c is None else str(c) for c in expected)
        return f"{where} must be one of {choices}, got {_show(value)}"
    if keyword in ("minimum", "maximum"):
        if "minimum" in schema and "maximum" in schema:
            return (f"{where} must be between {schema['minimum']} and {schema['maximum']}, "
                    f"got {value}")
        bound = "at least" if keyword == "minimum" else "at most"
        return f"{where} must be {bound} {expected}, got {value}"
    if keyword == "minLength":
        return f"{where} must not be empty" if expected == 1 else \
            f"{where} must have at least {expected} characters"
    if keyword == "maxLength":
        return f"{where} is longer than {expected} characters"
    if keyword == "minItems":
        return f"{where} must be a non-empty list" if expected == 1 else \
            f"{where} must list at least {expected} items"
    if keyword == "maxItems":
        return f"{where} lists more than {expected} items"
    if keyword == "uniqueItems":
        return f"{where} names {_duplicate(value)} twice"
    if keyword == "minProperties":
        return f"{where} must not be empty" if expected == 1 else \
            f"{where} must have at least {expected} keys"
    if keyword == "maxProperties":
        return f"{where} must be empty" if expected == 0 else \
            f"{where} must have at most {expected} keys"
    if keyword == "pattern":
        return f"{where} is not valid: {_show(value)}"
    if keyword in ("oneOf", "anyOf"):
        if not error.context:  # oneOf: several forms fit
            return f"{where} matches more than one of its accepted forms"
        return f"{where} matches none of its accepted forms, got {_show(value)}"
    return f"{where} is not valid: {error.message}"
