"""The limits in force for a project, as stored by Kingbird.

Shared by the API (what a tenant sees) and the engine (what it enforces), so the
two can never disagree on resolution order.
"""

from __future__ import annotations

from oslo_config import cfg
from sqlalchemy.orm import Session

from kingbird.quota import limits
from kingbird.quota import options as quota_options
from kingbird.quota import repository as quota_db

DEFAULT_CLASS = "default"


def defaults(session: Session, conf: cfg.ConfigOpts) -> dict[str, int]:
    return limits.default_limits(quota_db.get_class_limits(session, DEFAULT_CLASS),
                                 quota_options.default_global_limits(conf))


def project_limits(session: Session, conf: cfg.ConfigOpts, project_id: str) -> dict[str, int]:
    return limits.effective_limits(quota_db.get_project_limits(session, project_id),
                                   quota_db.get_class_limits(session, DEFAULT_CLASS),
                                   quota_options.default_global_limits(conf))
