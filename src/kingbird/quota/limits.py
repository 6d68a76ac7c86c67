"""Resolution of the limits in force: project → quota class ``default`` → configuration.

Pure functions: dictionaries in, dictionaries out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from kingbird.quota.keys import QUOTA_KEYS

UNLIMITED = -1
MAX_LIMIT = 2**31 - 1  # what Nova, Neutron and Cinder store (32-bit signed)


def effective_limits(project: Mapping[str, int], default_class: Mapping[str, int],
                     config_defaults: Mapping[str, int]) -> dict[str, int]:
    """Every quota key with the first value found in project, class, configuration."""
    return {key: project.get(key, default_class.get(key, config_defaults[key]))
            for key in QUOTA_KEYS}


def default_limits(default_class: Mapping[str, int],
                   config_defaults: Mapping[str, int]) -> dict[str, int]:
    """The limits of a project that has none of its own."""
    return effective_limits({}, default_class, config_defaults)


def total_usage(per_region: Iterable[Mapping[str, int]]) -> dict[str, int]:
    """Usage of every key summed over the regions given (absent keys count 0)."""
    totals = dict.fromkeys(QUOTA_KEYS, 0)
    for usage in per_region:
        for key in QUOTA_KEYS:
            totals[key] += usage.get(key, 0)
    return totals


def remaining(limits: Mapping[str, int], usage: Mapping[str, int]) -> dict[str, int]:
    """What is left under each limit; unlimited stays -1 and nothing goes below 0."""
    return {key: UNLIMITED if limits[key] == UNLIMITED else max(limits[key] - usage.get(key, 0), 0)
            for key in QUOTA_KEYS}
