"""Nova's legacy (DbQuotaDriver) quota rules: pure arithmetic plus one small store.

Facts carried over from Nova:

- limits resolve project value, else the ``default`` quota class, else the
  configuration default; ``-1`` means unlimited;
- only instances, cores, ram and server_groups are counted. key_pairs,
  server_group_members and security_group_rules always report ``in_use`` 0
  (they are per-user or per-group), and the network quotas proxied before
  2.36 are plain limits that nothing counts any more;
- the over-quota message is ``TooManyInstances``'s, with the offending
  resources sorted as ``OverQuota`` sorts them.
"""

from __future__ import annotations

from collections.abc import Mapping

UNLIMITED = -1

DEFAULTS: dict[str, int] = {
    "instances": 10, "cores": 20, "ram": 51200, "metadata_items": 128,
    "key_pairs": 100, "server_groups": 10, "server_group_members": 10,
    "injected_files": 5, "injected_file_content_bytes": 10240,
    "injected_file_path_bytes": 255, "fixed_ips": -1, "floating_ips": 10,
    "security_groups": 10, "security_group_rules": 20,
}
ALL_KEYS = tuple(DEFAULTS)
NETWORK_KEYS = ("fixed_ips", "floating_ips", "security_group_rules", "security_groups")
INJECTED_KEYS = ("injected_files", "injected_file_content_bytes", "injected_file_path_bytes")
SERVER_GROUP_KEYS = ("server_groups", "server_group_members")
COUNTED = ("instances", "cores", "ram", "server_groups")


def quota_set_keys(minor: int) -> tuple[str, ...]:
    """Keys of ``os-quota-sets`` bodies at microversion 2.``minor``."""
    hidden: tuple[str, ...] = ()
    if minor >= 36:
        hidden += NETWORK_KEYS
    if minor >= 57:
        hidden += INJECTED_KEYS
    return tuple(k for k in ALL_KEYS if k not in hidden)


def quota_class_keys(minor: int) -> tuple[str, ...]:
    """Keys of ``os-quota-class-sets`` bodies: server groups only from 2.50."""
    if minor < 50:
        return tuple(k for k in ALL_KEYS if k not in SERVER_GROUP_KEYS)
    hidden = NETWORK_KEYS + (INJECTED_KEYS if minor >= 57 else ())
    return tuple(k for k in ALL_KEYS if k not in hidden)


def resolve(key: str, project: Mapping[str, int], defaults: Mapping[str, int]) -> int:
    """The limit in force for ``key``."""
    value = project.get(key)
    return defaults[key] if value is None else value


def over_limits(limits: Mapping[str, int], usage: Mapping[str, int],
                deltas: Mapping[str, int]) -> list[str]:
    """Resources that ``deltas`` would push past their limit, sorted."""
    return sorted(key for key, delta in deltas.items()
                  if delta > 0 and limits[key] != UNLIMITED
                  and usage.get(key, 0) + delta > limits[key])


def too_many_instances(overs: list[str], limits: Mapping[str, int],
                       usage: Mapping[str, int], requested: Mapping[str, int]) -> str:
    """Nova's ``TooManyInstances`` message for the resources in ``overs``."""
    names = ", ".join(overs)
    reqs = ", ".join(str(requested[k]) for k in overs)
    used = ", ".join(str(usage.get(k, 0)) for k in overs)
    allowed = ", ".join(str(limits[k]) for k in overs)
    return (f"Quota exceeded for {names}: Requested {reqs}, but already used {used} "
            f"of {allowed} {names}")


def below_usage(key: str, limit: int, in_use: int) -> str | None:
    """Nova's 400 message when a new limit is below usage (without ``force``)."""
    if limit == UNLIMITED or limit >= in_use:
        return None
    return (f"Quota limit {limit} for {key} must be greater than or equal to already "
            f"used and reserved {in_use}.")


class QuotaStore:
    """Limits per project and per quota class, and usage counters per project.

    Counters are kept by the resources' own create/delete paths, so reading a
    project's detail is a handful of dict lookups whatever the region's size.
    """

    def __init__(self):
        self.classes: dict[str, dict[str, int]] = {"default": dict(DEFAULTS)}
        self.projects: dict[str, dict[str, int]] = {}
        self.usage: dict[str, dict[str, int]] = {}

    def defaults(self) -> dict[str, int]:
        return self.classes["default"]

    def limits(self, project_id: str) -> dict[str, int]:
        """Every limit in force for a project."""
        own = self.projects.get(project_id, {})
        defaults = self.defaults()
        return {key: resolve(key, own, defaults) for key in ALL_KEYS}

    def limit(self, project_id: str, key: str) -> int:
        return resolve(key, self.projects.get(project_id, {}), self.defaults())

    def in_use(self, project_id: str) -> dict[str, int]:
        """Usage as Nova reports it: counted resources, zero for the rest."""
        counted = self.usage.get(project_id, {})
        return {key: counted.get(key, 0) if key in COUNTED else 0 for key in ALL_KEYS}

    def add_usage(self, project_id: str, deltas: Mapping[str, int]) -> None:
        counters = self.usage.setdefault(project_id, {})
        for key, delta in deltas.items():
            counters[key] = max(0, counters.get(key, 0) + delta)

    def set_limits(self, project_id: str, values: Mapping[str, int]) -> None:
        self.projects.setdefault(project_id, {}).update(values)

    def revert(self, project_id: str) -> None:
        self.projects.pop(project_id, None)
