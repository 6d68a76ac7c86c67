"""``GET /v2/images``: visibility rules, filters, sorting and marker pagination.

As in Glance, a page holds ``limit`` images (default 25, at most 1000) and a
``next`` link is given whenever the page is full; shared images appear to
their members only once accepted unless ``member_status`` says otherwise.
"""

from __future__ import annotations

from urllib.parse import urlencode

from flask import request

from regionsim import web
from regionsim.services.glance.common import bp, locked, state
from regionsim.services.glance.errors import bad_request
from regionsim.services.glance.state import view

DEFAULT_LIMIT = 25
MAX_LIMIT = 1000
SORT_KEYS = frozenset({"name", "status", "container_format", "disk_format", "size", "id",
                       "created_at", "updated_at", "visibility", "owner", "min_disk", "min_ram",
                       "virtual_size"})
_CONTROL = frozenset({"limit", "marker", "sort_key", "sort_dir", "sort", "member_status",
                      "visibility", "tag", "size_min", "size_max", "os_hidden"})
_COLUMNS = frozenset({"id", "name", "status", "owner", "disk_format", "container_format",
                      "protected", "min_disk", "min_ram", "checksum", "os_hash_value",
                      "created_at", "updated_at"})


def _listed(st, image: dict, caller, visibility: str | None, member_status: str) -> bool:
    """Whether ``image`` belongs in the caller's listing for this visibility filter."""
    mine = image["owner"] == caller.project_id
    status = st.member_status(image["id"], caller.project_id)
    member_ok = status is not None and member_status in ("all", status)
    kind = image["visibility"]
    if visibility not in (None, "all") and kind != visibility:
        return False
    if kind == "public":
        return True
    if kind == "community":
        return visibility in ("community", "all") or mine
    if caller.is_admin:
        return True
    if kind == "shared":
        return mine or member_ok
    return mine


def _matches(image: dict, key: str, wanted: str) -> bool:
    if key == "protected":
        return str(image["protected"]).lower() == wanted.lower()
    value = image[key] if key in _COLUMNS else image["properties"].get(key)
    if wanted.startswith("in:"):
        return value is not None and str(value) in wanted[3:].split(",")
    return value is not None and str(value) == wanted


def _sort_spec(args) -> list[tuple[str, bool]]:
    """``(key, descending)`` pairs, with created_at and id appended as Glance does."""
    spec: list[tuple[str, bool]] = []
    if "sort" in args:
        for part in args["sort"].split(","):
            key, _, direction = part.strip().partition(":")
            spec.append((key, (direction or "desc") == "desc"))
    else:
        keys = args.getlist("sort_key") or ["created_at"]
        dirs = args.getlist("sort_dir")
        for i, key in enumerate(keys):
            direction = dirs[i] if i < len(dirs) else (dirs[-1] if dirs else "desc")
            if direction not in ("asc", "desc"):
                raise bad_request(f"Invalid sort direction: {direction}")
            spec.append((key, direction == "desc"))
    for key, _ in spec:
        if key not in SORT_KEYS:
            raise bad_request(f"Invalid sort key: {key}. It should be one of the following: "
                              f"{', '.join(sorted(SORT_KEYS))}.")
    for extra in ("created_at", "id"):
        if extra not in (k for k, _ in spec):
            spec.append((extra, spec[0][1]))
    return spec


def _sorted(images: list[dict], spec: list[tuple[str, bool]]) -> list[dict]:
    for key, desc in reversed(spec):
        images.sort(key=lambda i, k=key: (i[k] is None, i[k] if i[k] is not None else ""),
                    reverse=desc)
    return images


def _limit(args) -> int:
    text = args.get("limit")
    if text is None:
        return DEFAULT_LIMIT
    try:
        limit = int(text)
    except ValueError:
        raise bad_request("limit param must be an integer") from None
    if limit < 0:
        raise bad_request("limit param must be positive")
    return min(limit, MAX_LIMIT)


@bp.get("/v2/images")
@locked
def list_images():
    st, caller, args = state(), web.caller(), request.args
    visibility = args.get("visibility")
    if visibility not in (None, "public", "private", "shared", "community", "all"):
        raise bad_request(f"Invalid visibility value: {visibility}")
    member_status = args.get("member_status", "accepted")
    if member_status not in ("accepted", "pending", "rejected", "all"):
        raise bad_request(f"Invalid status value: {member_status}")
    hidden = args.get("os_hidden", "false").lower() == "true"
    tags = args.getlist("tag")
    filters = [(k, v) for k in args if k not in _CONTROL for v in args.getlist(k)]
    size_min, size_max = args.get("size_min"), args.get("size_max")
    images = []
    for image in st.images.values():
        if image["os_hidden"] != hidden:
            continue
        if not _listed(st, image, caller, visibility, member_status):
            continue
        if tags and not all(t in image["tags"] for t in tags):
            continue
        if size_min and (image["size"] is None or image["size"] < int(size_min)):
            continue
        if size_max and (image["size"] is None or image["size"] > int(size_max)):
            continue
        if all(_matches(image, k, v) for k, v in filters):
            images.append(image)
    images = _sorted(images, _sort_spec(args))
    marker = args.get("marker")
    if marker:
        position = next((i for i, image in enumerate(images) if image["id"] == marker), None)
        if position is None:
            raise bad_request(f"Invalid marker. Image {marker} could not be found.")
        images = images[position + 1:]
    limit = _limit(args)
    page = images[:limit]
    params = [(k, v) for k in args if k != "marker" for v in args.getlist(k)]
    body = {"images": [view(i) for i in page], "schema": "/v2/schemas/images",
            "first": "/v2/images" + (f"?{urlencode(params)}" if params else "")}
    if page and len(page) == limit:
        body["next"] = "/v2/images?" + urlencode(params + [("marker", page[-1]["id"])])
    return web.json_response(body)
