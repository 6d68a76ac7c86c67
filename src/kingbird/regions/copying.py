"""The interface of a resource copier, and the rules every copier follows.

A copier copies one resource from a source region to one target region (one job
entry). It acts with the service's credentials, for the user and project named
in the task, never with the caller's token, so a job outlives the token that
created it.

Copiers are idempotent: before each write in the target they record a
checkpoint (``Progress.save``), and when an entry is resumed — its engine died,
another took it over — the checkpoint says that what is in the target may be
their own earlier work, to be completed or kept rather than refused as "already
exists" or created a second time.
"""

from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

from kingbird.core.exceptions import WorkFailed


@dataclass(frozen=True)
class Scope:
    """Whom a job acts for: the resources read and written are theirs."""

    project_id: str
    user_id: str


class Progress(Protocol):
    """The checkpoint of the entry being copied, kept in the database."""

    @property
    def checkpoint(self) -> dict[str, Any] | None:
        """What an earlier attempt recorded; None on a first attempt."""

    def save(self, checkpoint: dict[str, Any]) -> None:
        """Record ``checkpoint`` durably before the write it announces.

        :raises kingbird.core.exceptions.LeaseLost: the entry is no longer ours.
        """

    def check(self) -> None:
        """:raises kingbird.core.exceptions.LeaseLost: the entry is no longer ours; long
            copies call this often."""


@dataclass
class Task:
    """One entry to carry out."""

    resource: str  # name or id, as the user gave it
    source: str
    target: str
    force: bool
    scope: Scope
    progress: Progress

    @property
    def resumed(self) -> bool:
        return self.progress.checkpoint is not None


class Action(enum.Enum):
    CREATE = "create"  # nothing in the target: create it
    REPLACE = "replace"  # something else is there: make it equal to the source
    DONE = "done"  # the target already holds the same thing
    REFUSE = "refuse"  # something is there and force is off


def decide(exists: bool, same: bool, force: bool, resumed: bool) -> Action:
    """What to do in the target (pure).

    :param exists: the target has a resource that the source's would clash with.
    :param same: that resource already equals the source's.
    :param resumed: an earlier attempt of this entry wrote in the target, so what
        is there may be its own, unfinished work.
    """
    if not exists:
        return Action.CREATE
    if not (force or resumed):
        return Action.REFUSE
    return Action.DONE if same else Action.REPLACE


def already_exists(kind: str, name: str, region: str) -> WorkFailed:
    return WorkFailed(f"{kind} {name} already exists in {region} "
                      "(sync with force to replace it)")


def not_found(kind: str, name: str, region: str) -> WorkFailed:
    return WorkFailed(f"{kind} {name} not found in {region}")


class Copier(ABC):
    """Copies resources of one type between regions."""

    resource_type: ClassVar[str]
    #: Only administrators may sync this type (flavors are global to a region).
    admin_only: ClassVar[bool] = False

    @abstractmethod
    def locate(self, region: str, scope: Scope, resource: str) -> list[dict]:
        """The resources of ``scope`` in ``region`` that ``resource`` (a name or an
        id) designates: empty if none, several if a name is ambiguous. The API
        checks this before creating a job.

        :raises RegionError: the region could not answer.
        """

    @abstractmethod
    def copy(self, task: Task) -> None:
        """Make the target hold a copy of the source's resource.

        :raises WorkFailed: the copy cannot be made (message for the user).
        :raises RegionError: a region failed (transient ones were retried).
        :raises kingbird.core.exceptions.LeaseLost: the entry is no longer ours.
        """
