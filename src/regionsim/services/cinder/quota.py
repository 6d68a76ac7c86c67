"""Cinder's quota rules: pure arithmetic and messages, plus one small store.

Facts carried over from Cinder:

- resources are volumes, snapshots, gigabytes, backups, backup_gigabytes,
  groups, per_volume_gigabytes, and ``volumes_<type>``, ``gigabytes_<type>``,
  ``snapshots_<type>`` for every volume type (unlimited by default);
- snapshots count toward ``gigabytes`` as volumes do;
- over-quota errors are 413s whose message depends on the first offending
  resource in sorted order (``process_reserve_over_quota``);
- a limit below current usage is refused with 400 on update (Cinder no longer
  skips that check; see ``quotas_api``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

UNLIMITED = -1

DEFAULTS: dict[str, int] = {
    "volumes": 10, "snapshots": 10, "gigabytes": 1000, "backups": 10,
    "backup_gigabytes": 1000, "groups": 10, "per_volume_gigabytes": -1,
}
TYPE_PREFIXES = ("volumes", "gigabytes", "snapshots")


def all_keys(type_names: Iterable[str]) -> tuple[str, ...]:
    """Every quota resource, the per-type ones included, in Cinder's order."""
    keys = list(DEFAULTS)
    for name in type_names:
        keys.extend(f"{prefix}_{name}" for prefix in TYPE_PREFIXES)
    return tuple(keys)


def default_for(key: str, class_defaults: Mapping[str, int]) -> int:
    if key in class_defaults:
        return class_defaults[key]
    return DEFAULTS.get(key, UNLIMITED)


def over_limits(limits: Mapping[str, int], usage: Mapping[str, int],
                deltas: Mapping[str, int]) -> list[str]:
    """Resources ``deltas`` would push past their limits, sorted as Cinder sorts them."""
    return sorted(key for key, delta in deltas.items()
                  if delta > 0 and limits.get(key, UNLIMITED) != UNLIMITED
                  and usage.get(key, 0) + delta > limits[key])


def over_quota_message(over: str, resource: str, limits: Mapping[str, int],
                       usage: Mapping[str, int], size: int) -> str:
    """The 413 message Cinder gives for the first offending resource ``over``."""
    if "gigabytes" in over:
        if resource == "backups":
            return (f"Requested backup exceeds allowed Backup gigabytes quota. Requested "
                    f"{size}G, quota is {limits[over]}G and {usage.get(over, 0)}G has been "
                    "consumed.")
        return (f"Requested volume or snapshot exceeds allowed {over} quota. Requested "
                f"{size}G, quota is {limits[over]}G and {usage.get(over, 0)}G has been "
                "consumed.")
    if over.startswith("volumes"):
        return (f"Maximum number of volumes allowed ({limits[over]}) exceeded for quota "
                f"'{over}'.")
    if over.startswith("snapshots"):
        return f"Maximum number of snapshots allowed ({limits[over]}) exceeded"
    if over.startswith("backups"):
        return f"Maximum number of backups allowed ({limits[over]}) exceeded"
    return f"Quota exceeded for resources: {over}"


def below_usage(key: str, limit: int, in_use: int) -> str | None:
    """Cinder's 400 message when a new limit is under what is already used."""
    if key == "per_volume_gigabytes" or limit == UNLIMITED or limit >= in_use:
        return None
    return (f"Quota {key} limit must be equal or greater than existing resources. Current "
            f"usage is {in_use} and the requested limit is {limit}.")


def volume_deltas(size: int, type_name: str, count: int = 1) -> dict[str, int]:
    return {"volumes": count, "gigabytes": size, f"volumes_{type_name}": count,
            f"gigabytes_{type_name}": size}


def snapshot_deltas(size: int, type_name: str) -> dict[str, int]:
    return {"snapshots": 1, "gigabytes": size, f"snapshots_{type_name}": 1,
            f"gigabytes_{type_name}": size}


def backup_deltas(size: int) -> dict[str, int]:
    return {"backups": 1, "backup_gigabytes": size}


class QuotaStore:
    """Limits per project and per class, usage counters per project.

    Counters move with the resources themselves (create, delete, extend), so
    ``?usage=True`` costs a few dict reads whatever the number of volumes.
    """

    def __init__(self):
        self.classes: dict[str, dict[str, int]] = {"default": dict(DEFAULTS)}
        self.projects: dict[str, dict[str, int]] = {}
        self.usage: dict[str, dict[str, int]] = {}

    def defaults(self, keys: Iterable[str]) -> dict[str, int]:
        class_defaults = self.classes["default"]
        return {key: default_for(key, class_defaults) for key in keys}

    def limits(self, project_id: str, keys: Iterable[str]) -> dict[str, int]:
        own = self.projects.get(project_id, {})
        class_defaults = self.classes["default"]
        return {key: own[key] if key in own else default_for(key, class_defaults)
                for key in keys}

    def in_use(self, project_id: str) -> dict[str, int]:
        return self.usage.get(project_id, {})

    def add_usage(self, project_id: str, deltas: Mapping[str, int]) -> None:
        counters = self.usage.setdefault(project_id, {})
        for key, delta in deltas.items():
            counters[key] = max(0, counters.get(key, 0) + delta)

    def remove_usage(self, project_id: str, deltas: Mapping[str, int]) -> None:
        self.add_usage(project_id, {k: -v for k, v in deltas.items()})
