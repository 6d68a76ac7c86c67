"""Every table of Kingbird, in one ``Base.metadata``.

Each feature declares its tables in its own ``models`` module; the Alembic
environment and the schema check import this module so that none is missed.
"""

from kingbird.db.base import Base
from kingbird.dr import models as dr_models
from kingbird.identity import models as identity_models
from kingbird.network import models as network_models
from kingbird.quota import models as quota_models
from kingbird.sync import models as sync_models

__all__ = ["Base", "dr_models", "identity_models", "network_models", "quota_models",
           "sync_models"]
