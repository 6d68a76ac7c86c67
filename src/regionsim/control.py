"""The simulator's control API under ``/_sim/``: faults and outages, admin only.

Tests and benchmarks use it to make a region slow, failing, hanging or
unreachable, exactly the conditions Kingbird must survive.
"""

from __future__ import annotations

import math

from flask import Blueprint, current_app

from regionsim.web import caller, json_body, json_response

bp = Blueprint("control", __name__, url_prefix="/_sim")

_FAULT_FIELDS = {"latency": (0.0, 600.0), "error_rate": (0.0, 1.0), "timeout": (0.0, 600.0)}


def _simulator():
    return current_app.config["SIMULATOR"]


def _error(status: int, message: str):
    return json_response({"error": {"code": status, "message": message}}, status)


@bp.before_request
def _admin_only():
    if not caller().is_admin:
        return _error(403, "the simulator's control API is for admins only")
    return None


def _region_or_404(name: str):
    region = _simulator().regions.get(name)
    if region is None:
        return None, _error(404, f"no region named {name!r}")
    return region, None


def _describe(region) -> dict:
    return {"name": region.name, "port": region.port, "up": region.up,
            "faults": region.faults.as_dict()}


@bp.get("/regions")
def list_regions():
    return json_response({"regions": [_describe(r) for r in _simulator().regions.values()]})


@bp.get("/regions/<name>")
def show_region(name: str):
    region, err = _region_or_404(name)
    return err or json_response({"region": _describe(region)})


@bp.put("/regions/<name>/faults")
def set_faults(name: str):
    region, err = _region_or_404(name)
    if err:
        return err
    body = json_body()
    if body is None:
        return _error(400, "body must be a JSON object like {\"latency\": 0.5}")
    unknown = set(body) - set(_FAULT_FIELDS)
    if unknown:
        return _error(400, f"unknown fault fields: {', '.join(sorted(unknown))}")
    for key, value in body.items():
        low, high = _FAULT_FIELDS[key]
        if isinstance(value, bool) or not isinstance(value, int | float) \
                or not math.isfinite(value) or not low <= value <= high:
            return _error(400, f"{key} must be a number between {low} and {high}")
    for key, value in body.items():
        setattr(region.faults, key, float(value))
    return json_response({"region": _describe(region)})


@bp.delete("/regions/<name>/faults")
def clear_faults(name: str):
    region, err = _region_or_404(name)
    if err:
        return err
    region.faults.latency = region.faults.error_rate = region.faults.timeout = 0.0
    return json_response({"region": _describe(region)})


@bp.post("/regions/<name>/down")
def take_down(name: str):
    region, err = _region_or_404(name)
    if err:
        return err
    _simulator().take_down(name)
    return json_response({"region": _describe(region)})


@bp.post("/regions/<name>/up")
def bring_up(name: str):
    region, err = _region_or_404(name)
    if err:
        return err
    _simulator().bring_up(name)
    return json_response({"region": _describe(region)})
