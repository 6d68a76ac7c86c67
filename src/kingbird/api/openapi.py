"""The OpenAPI document of the Kingbird API, assembled from each resource module.

Every route registers its description here next to its handler (``describe``), and
a test checks that no Flask route lacks one, so the document cannot fall behind.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Operation:
    method: str
    path: str  # OpenAPI form: /v1.0/{tenant}/os-quota-sets/{project_id}
    summary: str
    tag: str
    responses: dict[int, dict] = field(default_factory=dict)  # status -> JSON schema
    request: dict | None = None  # JSON schema of the body
    request_required: bool = True
    public: bool = False
    media_type: str = "application/json"  # of the success responses
    parameters: dict[str, dict] = field(default_factory=dict)  # path parameter -> schema
    # Query parameters: {"name", "schema", "description"?}, none required.
    query: tuple[dict, ...] = ()


_OPERATIONS: dict[tuple[str, str], Operation] = {}

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {"error": {
        "type": "object", "required": ["code", "message"],
        "properties": {"code": {"type": "integer"}, "title": {"type": "string"},
                       "message": {"type": "string"}}}},
}

PATH_PARAM_SCHEMAS = {
    "tenant": {"type": "string"},
    "project_id": {"type": "string"},
    "class_name": {"type": "string"},
    "job_id": {"type": "string"},
}


def describe(method: str, path: str, summary: str, tag: str, *,
             responses: dict[int, dict], request: dict | None = None,
             request_required: bool = True, public: bool = False,
             media_type: str = "application/json",
             parameters: dict[str, dict] | None = None,
             query: list[dict] | None = None) -> None:
    """Record one operation; ``path`` uses OpenAPI's ``{name}`` placeholders.

    ``media_type`` is that of the success (2xx) responses; errors are always JSON.
    ``parameters``: the schema of a path parameter, where not ``PATH_PARAM_SCHEMAS``'.
    ``query`` lists its query parameters (``name``, ``schema``, ``description``).
    """
    _OPERATIONS[(method.upper(), path)] = Operation(
        method.upper(), path, summary, tag, responses, request, request_required, public,
        media_type, dict(parameters or {}), tuple(query or ()))


def operations() -> list[Operation]:
    return list(_OPERATIONS.values())


def flask_rule_to_openapi(rule: str) -> str:
    """``/v1.0/<tenant>/x/<project_id>`` → ``/v1.0/{tenant}/x/{project_id}``."""
    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule)


def document(version: str) -> dict:
    """The OpenAPI 3.0 document."""
    paths: dict[str, dict] = {}
    for op in sorted(_OPERATIONS.values(), key=lambda o: (o.path, o.method)):
        params = [{"name": name, "in": "path", "required": True,
                   "schema": op.parameters.get(name) or PATH_PARAM_SCHEMAS.get(
                       name, {"type": "string"})}
                  for name in re.findall(r"{([a-z_]+)}", op.path)]
        params += [{"in": "query", "required": False, **param} for param in op.query]
        responses = {str(code): {"description": "", "content": {
            op.media_type if code < 300 else "application/json": {"schema": schema}}}
            for code, schema in op.responses.items()}
        defaults = [(400, "Bad request"), (401, "No or invalid token"),
                    (403, "Not allowed"), (404, "Not found"),
                    (503, "The database or the identity service cannot be reached")]
        if op.request is not None:
            defaults.append((413, "Request body larger than [api] max_request_body_size"))
        for code, text in defaults:
            if op.public and code in (401, 403):
                continue
            responses.setdefault(str(code), {"description": text, "content": {
                "application/json": {"schema": ERROR_SCHEMA}}})
        entry: dict = {"summary": op.summary, "tags": [op.tag], "parameters": params,
                       "responses": responses}
        if not op.public:
            entry["security"] = [{"keystone": []}]
        if op.request is not None:
            entry["requestBody"] = {"required": op.request_required, "content": {
                "application/json": {"schema": op.request}}}
        paths.setdefault(op.path, {})[op.method.lower()] = entry
    return {
        "openapi": "3.0.3",
        "info": {"title": "Kingbird API", "version": version,
                 "description": "Multi-region control plane for OpenStack clouds. Every "
                                "path is also served with a trailing slash."},
        "paths": paths,
        "components": {"securitySchemes": {"keystone": {
            "type": "apiKey", "in": "header", "name": "X-Auth-Token"}}},
    }
