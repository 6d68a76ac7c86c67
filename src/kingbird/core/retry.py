"""The one retry policy of Kingbird: calls to regions, retried with tenacity.

Only a call to a region is retried, and only when it failed for a transient
reason (``RegionError.transient``: refused or dropped connection, timeout, 5xx,
429). Nothing above the call loops again over what the policy already retried:
copiers make each call once, and a sync entry that still fails transiently is
put back by the engine and claimed again later, resuming from its checkpoint.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import tenacity
from oslo_config import cfg

from kingbird.core.exceptions import RegionError

LOG = logging.getLogger(__name__)
T = TypeVar("T")


def _transient(exc: BaseException) -> bool:
    return isinstance(exc, RegionError) and exc.transient


def _log_retry(retries: int) -> Callable[[tenacity.RetryCallState], None]:
    def log(state: tenacity.RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        LOG.info("%s: retry %d of %d in %.2f s", getattr(error, "message", error),
                 state.attempt_number, retries, state.upcoming_sleep)
    return log


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently a transient failure of a call is retried.

    :param retries: attempts after the first (``[regions] retries``).
    :param backoff: the pause before the first retry, doubled before each next
        one (``[regions] retry_backoff``).
    """

    retries: int = 2
    backoff: float = 0.2

    @classmethod
    def from_conf(cls, conf: cfg.ConfigOpts) -> RetryPolicy:
        return cls(retries=conf.regions.retries, backoff=conf.regions.retry_backoff)

    @property
    def attempts(self) -> int:
        """The most times one call is made."""
        return self.retries + 1

    def run(self, attempt: Callable[[], T], deadline: float | None = None) -> T:
        """``attempt()``, made again while it raises a transient ``RegionError``.

        :param deadline: a ``time.monotonic()`` instant; no retry starts after it.
        :raises RegionError: the last failure, once it is not transient, the
            attempts are spent, or the next one would start past ``deadline``.
        """
        stop = tenacity.stop_after_attempt(self.attempts)
        if deadline is not None:
            stop = stop | tenacity.stop_before_delay(deadline - time.monotonic())
        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception(_transient), stop=stop,
            wait=tenacity.wait_exponential(multiplier=self.backoff, min=0),
            before_sleep=_log_retry(self.retries), reraise=True)
        return retrying(attempt)
