"""Kingbird's one Alembic history (``env.py`` and ``versions/``), run through
``kingbird.db.migration``."""
