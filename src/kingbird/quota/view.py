"""What Kingbird reads of one project's quotas across regions."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class RegionalQuota:
    """Limits and usage of one project in one region, keyed by Kingbird's quota keys.

    Only the keys of the services the region has are present.
    """

    limits: dict[str, int]
    usage: dict[str, int]


@dataclass
class ProjectView:
    """A project across regions: the regions that answered, and why others did not."""

    project_id: str
    regions: dict[str, RegionalQuota] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        return not self.failed
