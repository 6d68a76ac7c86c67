"""What every Neutron route shares: the blueprint, body parsing, views and listings.

Neutron validates request bodies against an attribute map; the helpers here do
the same small set of checks (unknown attributes, admin-only attributes, types)
and produce its error bodies, so resource modules only state their rules.
"""

from __future__ import annotations

import functools
from urllib.parse import urlencode

from flask import Blueprint, request

from regionsim import web
from regionsim.services.neutron.errors import (
    BadRequest,
    NeutronError,
    PolicyNotAuthorized,
    not_found,
)

bp = Blueprint("neutron", __name__, url_prefix="/networking")

_NOT_FILTERS = frozenset({"fields", "limit", "marker", "sort_key", "sort_dir", "page_reverse",
                          "tags", "tags-any", "not-tags", "not-tags-any"})


@bp.errorhandler(NeutronError)
def _neutron_error(exc: NeutronError):
    return web.json_response(exc.body(), exc.status)


def route(rule: str, methods: list[str]):
    """Register a view at ``rule`` and ``rule.json`` and run it under the region lock."""

    def decorate(view):
        @functools.wraps(view)
        def locked(*args, **kwargs):
            kwargs = {k: (v[:-5] if isinstance(v, str) and v.endswith(".json") else v)
                      for k, v in kwargs.items()}
            with web.region().lock:
                return view(*args, **kwargs)

        bp.add_url_rule(rule, view.__name__, locked, methods=methods)
        if not rule.endswith(">"):
            bp.add_url_rule(rule + ".json", view.__name__ + "_json", locked, methods=methods)
        return locked

    return decorate


def state():
    """The Neutron state of the request's region."""
    return web.region().service("neutron")


def visible_row(table, row_id: str, caller: web.Caller, kind: str) -> dict:
    """Row ``row_id`` of ``table`` if the caller owns it or is an admin.

    :raises NotFound: Neutron's 404 for ``kind``, also for another project's row:
        Neutron does not reveal that it exists.
    """
    row = table.get(row_id)
    if row is None or not (caller.is_admin or row["project_id"] == caller.project_id):
        raise not_found(kind, row_id)
    return row


def listable_rows(table, caller: web.Caller):
    """The rows of ``table`` a listing starts from: all for an admin, else the caller's."""
    return table.rows.values() if caller.is_admin else table.owned_by(caller.project_id)


def resource_body(key: str) -> dict:
    """The object under ``key`` in the request body, or Neutron's 400."""
    body = web.json_body()
    if body is None:
        raise BadRequest("Resource body required")
    inner = body.get(key)
    if not isinstance(inner, dict):
        raise BadRequest(f"Unable to find '{key}' in request body")
    return inner


def check_attrs(body: dict, allowed: frozenset[str], admin_only: frozenset[str],
                caller: web.Caller, action: str) -> None:
    """Refuse unknown attributes (400) and admin-only ones from non-admins (403)."""
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise BadRequest(f"Unrecognized attribute(s) '{', '.join(unknown)}'")
    if not caller.is_admin:
        for attr in sorted(admin_only & set(body)):
            raise PolicyNotAuthorized(f"rule:{action}:{attr}")


def to_bool(value, attr: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false", "1", "0"):
        return value.lower() in ("true", "1")
    if value in (0, 1):
        return bool(value)
    raise BadRequest(f"Invalid input for {attr}. Reason: '{value}' cannot be converted to "
                     "boolean.")


def to_str(value, attr: str, max_len: int = 255) -> str:
    if not isinstance(value, str):
        raise BadRequest(f"Invalid input for {attr}. Reason: '{value}' is not a valid string.")
    if len(value) > max_len:
        raise BadRequest(f"Invalid input for {attr}. Reason: '{value}' exceeds maximum length "
                         f"of {max_len}.")
    return value


def to_list(value, attr: str) -> list:
    if not isinstance(value, list):
        raise BadRequest(f"Invalid input for {attr}. Reason: '{value}' is not a list.")
    return value


def owner_for_create(body: dict, caller: web.Caller) -> str:
    """The project a new resource belongs to: the caller's unless an admin says otherwise."""
    project = body.pop("project_id", None)
    tenant = body.pop("tenant_id", None)
    if project is not None and tenant is not None and project != tenant:
        raise BadRequest("'project_id' and 'tenant_id' do not match")
    wanted = project if project is not None else tenant
    if wanted is None or wanted == caller.project_id:
        return caller.project_id
    if not caller.is_admin:
        raise BadRequest("Specifying 'project_id' or 'tenant_id' other than the authenticated "
                         "project in request requires admin privileges")
    return to_str(wanted, "project_id")


def view(row: dict, caller: web.Caller, admin_only: frozenset[str] = frozenset()) -> dict:
    """The wire form of a row: internal keys dropped, admin-only ones for admins only."""
    hidden = admin_only if not caller.is_admin else ()
    return {k: v for k, v in row.items() if k[0] != "_" and k not in hidden}


def _matches(row: dict, key: str, wanted: list[str]) -> bool:
    if key not in row:
        return False
    value = row[key]
    if isinstance(value, bool):
        return any(w.lower() in (("true", "1") if value else ("false", "0")) for w in wanted)
    if isinstance(value, list):
        return any(w in value for w in wanted)
    if value is None:
        return any(w in ("", "None", "null") for w in wanted)
    return str(value) in wanted


def _tags_match(row: dict, args) -> bool:
    tags = set(row.get("tags", ()))
    for key, test in (("tags", lambda want: want <= tags),
                      ("tags-any", lambda want: bool(want & tags)),
                      ("not-tags", lambda want: not want <= tags),
                      ("not-tags-any", lambda want: not want & tags)):
        for value in args.getlist(key):
            if not test(set(value.split(","))):
                return False
    return True


def filtered(rows, special: dict | None = None) -> list[dict]:
    """Rows matching the query's filters: values of one key OR'ed, keys AND'ed.

    ``special`` maps a filter name to a function ``(row, values) -> bool`` for
    attributes that are not plain equality (a port's ``fixed_ips``).
    """
    args = request.args
    tests = []
    for key in args:
        if key in _NOT_FILTERS:
            continue
        values = args.getlist(key)
        if special and key in special:
            tests.append(functools.partial(special[key], values=values))
        else:
            tests.append(functools.partial(lambda row, k, v: _matches(row, k, v), k=key, v=values))
    has_tags = any(k in args for k in ("tags", "tags-any", "not-tags", "not-tags-any"))
    return [row for row in rows
            if all(t(row) for t in tests) and (not has_tags or _tags_match(row, args))]


def _only_fields(item: dict) -> dict:
    fields = request.args.getlist("fields")
    if not fields:
        return item
    keep = set(fields)
    return {k: v for k, v in item.items() if k in keep}


def listing(collection: str, rows: list[dict], render):
    """The list response: sorted, paginated with ``<collection>_links``, ``fields`` applied.

    ``render`` turns one row into its wire form for the caller.
    """
    args = request.args
    sort_keys = args.getlist("sort_key")
    if sort_keys:
        dirs = args.getlist("sort_dir")
        for i in range(len(sort_keys) - 1, -1, -1):
            key = sort_keys[i]
            desc = i < len(dirs) and dirs[i] == "desc"
            rows = sorted(rows, key=lambda r, k=key: (r.get(k) is None, str(r.get(k, ""))),
                          reverse=desc)
    marker = args.get("marker")
    if marker:
        for index, row in enumerate(rows):
            if row["id"] == marker:
                rows = rows[index + 1:]
                break
    body: dict = {}
    limit_text = args.get("limit")
    if limit_text:
        try:
            limit = int(limit_text)
        except ValueError:
            raise BadRequest(f"Limit must be an integer 0 or greater and not '{limit_text}'") \
                from None
        if limit > 0 and len(rows) > limit:
            rows = rows[:limit]
            query = [(k, v) for k in args if k != "marker" for v in args.getlist(k)]
            query.append(("marker", rows[-1]["id"]))
            body[f"{collection}_links"] = [
                {"rel": "next", "href": f"{request.base_url}?{urlencode(query)}"}]
    body[collection] = [_only_fields(render(r)) for r in rows]
    return web.json_response(body)


def shown(key: str, item: dict, status: int = 200):
    """A single-resource response honouring ``fields``."""
    return web.json_response({key: _only_fields(item)}, status)
