"""JSON responses of the Kingbird API."""

from __future__ import annotations

import datetime as dt
import json

from flask import Response


def _encode(value):
    if isinstance(value, dt.datetime):
        return value.isoformat()
    raise TypeError(f"cannot encode {type(value).__name__}")


def json_response(body, status: int = 200) -> Response:
    """``body`` as JSON; datetimes are written in ISO 8601."""
    return Response(json.dumps(body, default=_encode), status=status,
                    mimetype="application/json")
