"""JSON calls to one service of one region, with the service's credentials.

The resource clients of this package (keypairs, flavors, images, security
groups) speak the services' REST APIs through this one helper, so that every call
gets the same retries of transient failures (``calls.call``) and the same
translation of failures into ``RegionError``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from openstack import exceptions as sdk_exc

from kingbird.regions import calls
from kingbird.regions.directory import RegionDirectory

MISSING = object()  # what ``call(..., missing_ok=True)`` answers for a 404


class RegionRest:
    """``call(region, service, method, path)`` → the parsed JSON answer.

    :param directory: gives the openstacksdk connection of each region.
    :param retries: retries of a transient failure (5xx, timeout, refused).
    :param backoff: first pause between retries, doubled each time.
    """

    def __init__(self, directory: RegionDirectory, retries: int = 2, backoff: float = 0.2):
        self.directory = directory
        self.retries = retries
        self.backoff = backoff

    def proxy(self, region: str, service: str):
        """The openstacksdk proxy (a keystoneauth adapter) of ``service`` in ``region``;
        ``service`` is ``compute``, ``network``, ``image`` or ``block_storage``."""
        return getattr(self.directory.connection(region), service)

    def call(self, region: str, service: str, method: str, path: str, what: str, *,
             body: Mapping[str, Any] | None = None, params: Mapping[str, Any] | None = None,
             microversion: str | None = None, missing_ok: bool = False,
             headers: Mapping[str, str] | None = None) -> Any:
        """One call, retried while its failure is transient.

        :param what: a short description for error messages ("read keypair k1").
        :param missing_ok: answer ``MISSING`` for a 404 instead of failing.
        :returns: the JSON answer (``{}`` for an empty body), or ``MISSING``.
        :raises RegionError: the call failed (``transient`` tells whether retries
            were exhausted on a failure that might pass).
        """

        def _once():
            kwargs: dict[str, Any] = {"raise_exc": False}
            if body is not None:
                kwargs["json"] = dict(body)
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

        return calls.call(region, what, _once, self.retries, self.backoff)
