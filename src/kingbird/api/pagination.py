"""``limit`` and ``marker`` on the list routes, as OpenStack APIs page their lists.

A page holds at most ``limit`` items (at most ``[api] max_page_size``, which is
also the page size when no ``limit`` is given), in the list's usual order, after
the item whose id is ``marker``. When more items follow, the answer carries
``<collection>_links: [{"rel": "next", "href": ...}]`` (Nova's form): the same
request with ``marker`` set to the last id of this page. A list that fits in one
page is answered exactly as it was before pagination existed.

A handler reads the request once (``requested``), then either pages a list it
has in full (``paged``) or asks its repository for the page (``limit + 1`` rows
after the marker, to know whether more follow), and builds the body with ``body``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from flask import request

from kingbird.api.app_services import services
from kingbird.core import exceptions

MAX_MARKER = 255
_DIGITS = re.compile(r"^[0-9]{1,9}$")

#: The query parameters of a paged list route, for ``/openapi.json``.
QUERY = [
    {"name": "limit", "schema": {"type": "integer", "minimum": 1},
     "description": "Most items in the answer (at most [api] max_page_size, also the "
                    "default); a <collection>_links 'next' link follows when more remain."},
    {"name": "marker", "schema": {"type": "string", "maxLength": MAX_MARKER},
     "description": "Id of the last item of the previous page: the page starts after it."},
]

_LINKS = {"type": "array", "items": {
    "type": "object", "required": ["rel", "href"],
    "properties": {"rel": {"type": "string", "enum": ["next"]}, "href": {"type": "string"}}}}


def with_links(schema: Mapping[str, Any], collection: str) -> dict[str, Any]:
    """The answer ``schema`` of a list route, with its optional ``<collection>_links``."""
    properties = {**schema.get("properties", {}), f"{collection}_links": _LINKS}
    return {**schema, "properties": properties}


@dataclass(frozen=True)
class PageRequest:
    """What the request asks: at most ``limit`` items after the one ``marker`` names."""

    limit: int
    marker: str | None


def requested() -> PageRequest:
    """The page the request asks for.

    :raises BadRequest: ``limit`` is not a positive integer, or ``marker`` is empty
        or too long.
    """
    maximum = services().conf.api.max_page_size
    limit = maximum
    raw = request.args.get("limit")
    if raw is not None:
        if not _DIGITS.match(raw) or int(raw) < 1:
            shown = raw if len(raw) <= 20 else raw[:20] + "..."
            raise exceptions.BadRequest(f"'limit' must be a positive integer, got {shown!r}")
        limit = min(int(raw), maximum)
    marker = request.args.get("marker")
    if marker is not None and not 0 < len(marker) <= MAX_MARKER:
        raise exceptions.BadRequest(f"'marker' must be an id of 1 to {MAX_MARKER} characters")
    return PageRequest(limit, marker)


def marker_not_found(marker: str) -> exceptions.BadRequest:
    """The refusal of a marker that names no item of the list (Nova's 400)."""
    return exceptions.BadRequest(f"marker {marker!r} not found")


def paged(items: Sequence[Mapping[str, Any]], page: PageRequest,
          key: str = "id") -> tuple[list, bool]:
    """The page of a full list, and whether more items follow it.

    :raises BadRequest: the marker names no item of the list.
    """
    start = 0
    if page.marker is not None:
        ids = [str(item[key]) for item in items]
        if page.marker not in ids:
            raise marker_not_found(page.marker)
        start = ids.index(page.marker) + 1
    rest = list(items[start:])
    return rest[:page.limit], len(rest) > page.limit


def body(collection: str, items: Sequence[Mapping[str, Any]], more: bool, page: PageRequest,
         view: Callable[[Any], Any] = lambda item: item, key: str = "id") -> dict[str, Any]:
    """``{collection: [view(item), ...]}``, with a next link when ``more`` follow."""
    answer: dict[str, Any] = {collection: [view(item) for item in items]}
    if more and items:
        args = request.args.to_dict()
        args.update(limit=str(page.limit), marker=str(items[-1][key]))
        answer[f"{collection}_links"] = [
            {"rel": "next", "href": f"{request.base_url}?{urlencode(args)}"}]
    return answer


def listing(collection: str, items: Sequence[Mapping[str, Any]],
            view: Callable[[Any], Any] = lambda item: item, key: str = "id") -> dict[str, Any]:
    """The answer to a paged list route whose handler has the whole list."""
    page = requested()
    chosen, more = paged(items, page, key)
    return body(collection, chosen, more, page, view, key)
