"""One call to a regional service: the one map of its failures to ``RegionError``,
and the one place it is retried (``RetryPolicy``).

Transient means a retry may succeed: connection refused or reset, a timeout, a
5xx, a 429 (the region asks us to slow down). Any other 4xx is the region
telling us we are wrong, and is never retried.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

import requests
from keystoneauth1 import exceptions as ks_exc
from openstack import exceptions as sdk_exc

from kingbird.core import metrics
from kingbird.core.exceptions import RegionError
from kingbird.core.retry import RetryPolicy

T = TypeVar("T")

TOO_MANY_REQUESTS = 429
DEFAULT_POLICY = RetryPolicy()
ONCE = RetryPolicy(retries=0)  # calls that cannot be made twice (a streamed upload)


class RegionTimeout(RegionError):
    """The region did not answer within the call's timeout, retries included."""


def _status(exc: Exception) -> int | None:
    status = getattr(exc, "status_code", None) or getattr(exc, "http_status", None)
    return status if isinstance(status, int) else None


def region_error(region: str, what: str, exc: Exception) -> RegionError:
    """The ``RegionError`` a failed call to ``region`` stands for, keeping the HTTP
    status the region answered (None when it did not answer).

    :param what: what the call was doing ("read keypair k1"), for the message.
    :raises Exception: ``exc`` itself when it is not the failure of a call (a
        bug, or a signal such as a lost lease, is not the region's doing).
    """
    if isinstance(exc, RegionError):
        return exc
    if isinstance(exc, ks_exc.ConnectTimeout):
        return RegionTimeout(region, f"{what}: timed out", transient=True)
    if isinstance(exc, ks_exc.ConnectFailure):
        return RegionError(region, f"{what}: connection refused or failed", transient=True)
    if isinstance(exc, ks_exc.UnknownConnectionError):
        return RegionError(region, f"{what}: connection dropped", transient=True)
    if isinstance(exc, ks_exc.EndpointNotFound | sdk_exc.EndpointNotFound):
        return RegionError(region, f"{what}: service not in the catalog for this region")
    status = _status(exc)
    if status is not None:
        message = getattr(exc, "details", None) or getattr(exc, "message", None) or str(exc)
        return RegionError(region, f"{what}: HTTP {status}: {message}", status=status,
                           transient=status >= 500 or status == TOO_MANY_REQUESTS)
    if isinstance(exc, requests.RequestException):
        # Raised by requests itself while a streamed body is read or sent.
        return RegionError(region, f"{what}: {exc}", transient=True)
    if isinstance(exc, ks_exc.ClientException | sdk_exc.SDKException):
        return RegionError(region, f"{what}: {exc}")
    raise exc


def call(region: str, what: str, func: Callable[[], T], policy: RetryPolicy = DEFAULT_POLICY,
         deadline: float | None = None) -> T:
    """Run ``func`` (one request to ``region``) under ``policy``: each attempt is
    timed for the metrics, its failure mapped by ``region_error``, and transient
    failures retried.

    :param deadline: a ``time.monotonic()`` instant after which no retry starts.
    :raises RegionTimeout: the last attempt timed out.
    :raises RegionError: the last failure, with ``transient`` and ``status`` set.
    """

    def attempt() -> T:
        started = time.monotonic()
        try:
            result = func()
        except Exception as exc:
            metrics.observe_region_call(region, time.monotonic() - started, exc)
            error = region_error(region, what, exc)
            if error is exc:
                raise
            raise error from exc
        metrics.observe_region_call(region, time.monotonic() - started, None)
        return result

    return policy.run(attempt, deadline)


def checked(response, region: str, what: str):
    """The JSON of a raw keystoneauth response, raising for HTTP errors."""
    sdk_exc.raise_from_response(response)
    return response.json()
