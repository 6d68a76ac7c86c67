"""One call to a regional service: timeouts, retries of transient failures, and one
translation of failures into ``RegionError``.

Transient means a retry may succeed: connection refused or reset, a timeout, a
5xx. A 4xx is the region telling us we are wrong, and is never retried.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from keystoneauth1 import exceptions as ks_exc
from openstack import exceptions as sdk_exc

from kingbird.core import metrics
from kingbird.core.exceptions import RegionError

LOG = logging.getLogger(__name__)
T = TypeVar("T")


def classify(exc: Exception) -> tuple[bool, str]:
    """``(transient, reason)`` of a failed call."""
    if isinstance(exc, ks_exc.ConnectTimeout):
        return True, "timed out"
    if isinstance(exc, ks_exc.ConnectFailure):
        return True, "connection refused or failed"
    if isinstance(exc, ks_exc.UnknownConnectionError):
        return True, "connection dropped"
    if isinstance(exc, ks_exc.EndpointNotFound | sdk_exc.EndpointNotFound):
        return False, "service not in the catalog for this region"
    status = getattr(exc, "status_code", None) or getattr(exc, "http_status", None)
    if status is not None:
        message = getattr(exc, "details", None) or getattr(exc, "message", None) or str(exc)
        return status >= 500, f"HTTP {status}: {message}"
    if isinstance(exc, ks_exc.ClientException | sdk_exc.SDKException):
        return False, str(exc)
    raise exc


class RegionTimeout(RegionError):
    """The region did not answer within the call's timeout, retries included."""


def call(region: str, what: str, func: Callable[[], T], retries: int = 2,
         backoff: float = 0.2, deadline: float | None = None) -> T:
    """Run ``func``; retry transient failures with exponential backoff.

    :raises RegionTimeout: the last attempt timed out.
    :raises RegionError: the last failure, with ``transient`` set accordingly.
    """
    attempt = 0
    while True:
        started = time.monotonic()
        try:
            result = func()
        except Exception as exc:  # classify() re-raises what is not a call failure
            metrics.observe_region_call(region, time.monotonic() - started, exc)
            transient, reason = classify(exc)
            pause = backoff * 2**attempt
            out_of_time = deadline is not None and time.monotonic() + pause > deadline
            if not transient or attempt >= retries or out_of_time:
                error = RegionTimeout if isinstance(exc, ks_exc.ConnectTimeout) else RegionError
                raise error(region, f"{what}: {reason}", transient=transient) from exc
            LOG.info("%s %s failed (%s), retry %d", region, what, reason, attempt + 1)
            time.sleep(pause)
            attempt += 1
        else:
            metrics.observe_region_call(region, time.monotonic() - started, None)
            return result


def checked(response, region: str, what: str):
    """The JSON of a raw keystoneauth response, raising for HTTP errors."""
    sdk_exc.raise_from_response(response)
    return response.json()
