"""Glance's errors: webob exceptions, rendered as webob renders them for JSON clients.

A client sending ``Accept: application/json`` (openstacksdk does) gets
``{"message": ..., "code": "404 Not Found", "title": "Not Found"}`` from Glance;
the message is what openstacksdk shows.
"""

from __future__ import annotations

_TITLES = {400: "Bad Request", 403: "Forbidden", 404: "Not Found", 409: "Conflict",
           410: "Gone", 413: "Request Entity Too Large", 415: "Unsupported Media Type",
           416: "Requested Range Not Satisfiable"}


class GlanceError(Exception):
    """A failure answered with ``status`` and ``message``."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message

    def body(self) -> dict:
        title = _TITLES.get(self.status, "Error")
        return {"message": self.message, "code": f"{self.status} {title}", "title": title}


def bad_request(message: str) -> GlanceError:
    return GlanceError(400, message)


def forbidden(message: str) -> GlanceError:
    return GlanceError(403, message)


def not_found(message: str) -> GlanceError:
    return GlanceError(404, message)


def conflict(message: str) -> GlanceError:
    return GlanceError(409, message)


def no_image(image_id: str) -> GlanceError:
    return not_found(f"No image found with ID {image_id}")
