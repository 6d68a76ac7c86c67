"""JSON calls to one service of one region, with the service's credentials.

The resource clients of this package (keypairs, flavors, images, security
groups) speak the services' REST APIs through this one helper, so that every call
gets the same retry policy (``calls.call``) and the same translation of failures
into ``RegionError``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from openstack import exceptions as sdk_exc

from kingbird.core.retry import RetryPolicy
from kingbird.regions import calls
from kingbird.regions.directory import RegionDirectory

MISSING = object()  # what ``call(..., missing_ok=True)`` answers for a 404


class RegionRest:
    """``call(region, service, method, path)`` → the parsed JSON answer.

    :param directory: gives the openstacksdk connection of each region.
    :param policy: the retries of a transient failure (5xx, 429, timeout, refused).
    """

    def __init__(self, directory: RegionDirectory, policy: RetryPolicy = calls.DEFAULT_POLICY):
        self.directory = directory
        self.policy = policy

    def proxy(self, region: str, service: str):
        """The openstacksdk proxy (a keystoneauth adapter) of ``service`` in ``region``;
        ``service`` is ``compute``, ``network``, ``image`` or ``block_storage``."""
        return getattr(self.directory.connection(region), service)

    def call(self, region: str, service: str, method: str, path: str, what: str, *,
             body: Mapping[str, Any] | Sequence[Any] | None = None,
             params: Mapping[str, Any] | None = None, microversion: str | None = None,
             missing_ok: bool = False, headers: Mapping[str, str] | None = None,
             deadline: float | None = None) -> Any:
        """One call, retried while its failure is transient.

        :param what: a short description for error messages ("read keypair k1").
        :param body: the JSON body: an object, or a list (a JSON patch).
        :param missing_ok: answer ``MISSING`` for a 404 instead of failing.
        :param deadline: a ``time.monotonic()`` instant after which no retry starts.
        :returns: the JSON answer (``{}`` for an empty body), or ``MISSING``.
        :raises RegionError: the call failed (``transient`` tells whether retries
            were exhausted on a failure that might pass).
        """

        def _once():
            kwargs: dict[str, Any] = {"raise_exc": False}
            if body is not None:
                kwargs["json"] = dict(body) if isinstance(body, Mapping) else list(body)
            if params:
                kwargs["params"] = dict(params)
            if microversion:
                kwargs["microversion"] = microversion
            if headers:
                kwargs["headers"] = dict(headers)
            response = self.proxy(region, service).request(path, method, **kwargs)
            if missing_ok and response.status_code == 404:
                return MISSING
            sdk_exc.raise_from_response(response)
            return response.json() if response.content else {}

        return calls.call(region, what, _once, self.policy, deadline)
