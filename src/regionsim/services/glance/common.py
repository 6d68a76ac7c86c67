"""The Glance blueprint, its error rendering, and the image lookups with policy."""

from __future__ import annotations

import functools

from flask import Blueprint

from regionsim import web
from regionsim.services.glance.errors import GlanceError, forbidden, no_image

bp = Blueprint("glance", __name__, url_prefix="/image")


@bp.errorhandler(GlanceError)
def _glance_error(exc: GlanceError):
    return web.json_response(exc.body(), exc.status)


def locked(view):
    """Run a view under the region lock (views that stream take it themselves)."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        with web.region().lock:
            return view(*args, **kwargs)

    return wrapper


def state():
    return web.region().service("glance")


def visible_image(st, image_id: str, caller) -> dict:
    image = st.images.get(image_id)
    if image is None or not st.image_visible_to(image, caller.project_id, caller.is_admin):
        raise no_image(image_id)
    return image


def owned_image(st, image_id: str, caller, action: str) -> dict:
    """An image the caller may change: 404 if invisible, 403 if only visible."""
    image = visible_image(st, image_id, caller)
    if not caller.is_admin and image["owner"] != caller.project_id:
        raise forbidden(f"You are not authorized to complete {action} action.")
    return image
