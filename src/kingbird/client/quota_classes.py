"""Quota classes: ``os-quota-class-sets``. The ``default`` class feeds the defaults."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from kingbird.client.http import HttpClient
from kingbird.client.quotas import ordered_limits


@dataclass(frozen=True)
class QuotaClassSet:
    """The limits of a quota class, every key (configured defaults fill the gaps)."""

    class_name: str
    limits: dict[str, int]


def _class_set(body: Mapping) -> QuotaClassSet:
    values = dict(body["quota_class_set"])
    name = values.pop("class_name")
    return QuotaClassSet(name, ordered_limits(values))


class QuotaClassManager:
    """The verbs on ``os-quota-class-sets``."""

    def __init__(self, http: HttpClient):
        self._http = http

    def get(self, class_name: str) -> QuotaClassSet:
        """The limits of a quota class.

        :param class_name: the class, e.g. ``default``.
        :raises kingbird.client.exceptions.KingbirdError: as ``HttpClient.request``.
        """
        return _class_set(self._http.get(f"/os-quota-class-sets/{class_name}"))

    def update(self, class_name: str, limits: Mapping[str, int]) -> QuotaClassSet:
        """Create a quota class or change some of its limits.

        :param class_name: the class.
        :param limits: quota key -> new limit (-1 for unlimited).
        :returns: the whole class as it now stands (every key: what the class sets,
            else the configured default).
        :raises kingbird.client.exceptions.BadRequest: an unknown key or a bad value.
        :raises kingbird.client.exceptions.Forbidden: the caller is not an administrator.
        """
        return _class_set(self._http.put(f"/os-quota-class-sets/{class_name}",
                                         {"quota_class_set": dict(limits)}))

    def delete(self, class_name: str) -> None:
        """Delete a quota class; its projects fall back to the configured defaults.

        :param class_name: the class.
        :raises kingbird.client.exceptions.NotFound: the class sets no limits.
        """
        self._http.delete(f"/os-quota-class-sets/{class_name}")
