"""Access to the ``ApiServices`` of the running application."""

from __future__ import annotations

from flask import current_app


def services():
    """The ``ApiServices`` passed to ``create_app``."""
    return current_app.extensions["kingbird"]
