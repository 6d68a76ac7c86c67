"""Glance's JSON-patch dialects applied to an image document. Pure functions.

``application/openstack-images-v2.1-json-patch`` takes RFC 6902 operations
(``{"op": "replace", "path": "/name", "value": ...}``); the older v2.0 type
writes ``{"replace": "/name", "value": ...}``. Only ``add``, ``replace`` and
``remove`` of top-level paths exist, as in Glance.
"""

from __future__ import annotations

from regionsim.services.glance import schema
from regionsim.services.glance.errors import GlanceError, bad_request, conflict, forbidden

MEDIA_TYPES = {"application/openstack-images-v2.1-json-patch": 10,
               "application/openstack-images-v2.0-json-patch": 4}
_OPS = ("add", "replace", "remove")


def parse(body, version: int) -> list[tuple[str, str, object]]:
    """``(op, attribute, value)`` triples of a patch document."""
    if not isinstance(body, list):
        raise bad_request("Request body must be a JSON array of operation objects.")
    changes = []
    for item in body:
        if not isinstance(item, dict):
            raise bad_request("Operations must be JSON objects.")
        if version == 10:
            op, path = item.get("op"), item.get("path")
            if op not in _OPS:
                raise bad_request(f"Invalid operation: `{op}`.")
        else:
            found = [o for o in _OPS if o in item]
            if len(found) != 1:
                raise bad_request("Operation objects must contain exactly one member named "
                                  "\"add\", \"remove\", or \"replace\".")
            op, path = found[0], item[found[0]]
        if not isinstance(path, str) or not path.startswith("/"):
            raise bad_request(f"Invalid JSON pointer for this resource: '{path}'")
        key = path[1:]
        if "/" in key:
            raise bad_request(f"Nested paths are not allowed: '{path}'")
        key = key.replace("~1", "/").replace("~0", "~")
        if op != "remove" and "value" not in item:
            raise bad_request(f"Operation \"{op}\" requires a member named \"value\".")
        if op == "remove" and "value" in item:
            raise bad_request("Operation \"remove\" must not have a member named \"value\".")
        changes.append((op, key, item.get("value")))
    return changes


def apply(doc: dict, changes: list[tuple[str, str, object]], version: int) -> dict:
    """A new document with ``changes`` applied; ``doc`` holds writable core keys and
    ``properties``. Raises Glance's 403/409 for read-only keys and missing properties.
    """
    result = dict(doc)
    props = dict(doc["properties"])
    result["properties"] = props
    for op, key, value in changes:
        schema.check_key(key)
        core = key in schema.WRITABLE
        if op == "add":
            if version == 4 and (core or key in props):
                raise conflict(f"Property {key} already present.")
        elif op == "replace":
            if not core and key not in props:
                raise conflict(f"Property {key} does not exist.")
        else:
            if core:
                raise forbidden(f"Property {key} may not be removed.")
            if key not in props:
                raise conflict(f"Property {key} does not exist.")
            del props[key]
            continue
        if core:
            result[key] = value
        else:
            props[key] = value
    schema.validate(result)
    return result


__all__ = ["GlanceError", "MEDIA_TYPES", "apply", "parse"]
