"""Do the resources of a new sync job exist in their source regions?

Asked live before the job is accepted, so that a missing resource is refused
with a 404 naming it (the user guide's behaviour) rather than stored as a job
bound to fail. The API stays bounded while it asks: each (type, region,
resource) is looked up once per request, at most ``MAX_LOOKUPS`` of them, all at
once on the region fan-out (each region in its own lane) and within a deadline,
after which the request is refused with a 503 instead of waiting for a hung
region.

Every source of a set is asked at once, even those a resource found in an
earlier source will not need: one round trip instead of one per source.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from kingbird.core import exceptions
from kingbird.core.exceptions import RegionError
from kingbird.regions.copying import Copier, Scope
from kingbird.regions.fanout import FanOut
from kingbird.sync.validation import Located, SyncSpec

MAX_LOOKUPS = 100


@dataclass(frozen=True)
class Lookup:
    """One question to a region: the resources of this type ``resource`` designates."""

    resource_type: str
    region: str
    resource: str


def lookups(specs: list[SyncSpec]) -> list[Lookup]:
    """The distinct lookups the request needs, in its order: each resource in each
    source of its set (pure).

    :raises BadRequest: more than ``MAX_LOOKUPS``.
    """
    wanted = list(dict.fromkeys(Lookup(spec.resource_type, source, resource)
                                for spec in specs for resource in spec.resources
                                for source in spec.sources))
    if len(wanted) > MAX_LOOKUPS:
        raise exceptions.BadRequest(
            f"a job may look up at most {MAX_LOOKUPS} resources in their source regions "
            f"(each resource in each of its sources); this one needs {len(wanted)}: split it")
    return wanted


def locate(specs: list[SyncSpec], scope: Scope, copiers: Mapping[str, Copier],
           fanout: FanOut, deadline: float) -> dict[tuple[int, str], Located]:
    """Where each resource of the request is: the first source of its set that has it.

    :param deadline: seconds the lookups may take together.
    :returns: (index of the spec, resource as given) → where it was found.
    :raises BadRequest: too many lookups (nothing is asked then).
    :raises NotFound: naming the first resource that is in none of its sources.
    :raises Conflict: a name designates several resources in a source.
    :raises ServiceUnavailable: a source did not answer within ``deadline``.
    :raises RegionError: a source answered with an error.
    """
    errors: dict[Lookup, RegionError] = {}

    def ask(lookup: Lookup) -> Callable[[], list[dict]]:
        def task() -> list[dict]:
            try:
                return copiers[lookup.resource_type].locate(lookup.region, scope,
                                                            lookup.resource)
            except RegionError as exc:  # the fan-out keeps only its message
                errors[lookup] = exc
                raise
        return task

    wanted = lookups(specs)
    results, failures = fanout.run({lookup: ask(lookup) for lookup in wanted},
                                   deadline=time.monotonic() + deadline,
                                   lane=lambda lookup: lookup.region)
    located: dict[tuple[int, str], Located] = {}
    for index, spec in enumerate(specs):
        kind = spec.resource_type.replace("_", " ")
        for resource in spec.resources:
            for source in spec.sources:
                lookup = Lookup(spec.resource_type, source, resource)
                if lookup in failures:
                    if lookup in errors:
                        raise errors[lookup]
                    raise exceptions.ServiceUnavailable(
                        f"cannot tell whether {kind} {resource!r} exists in {source}: "
                        f"{failures[lookup]} (within {deadline:g} s); retry later")
                found = results[lookup]
                if len(found) > 1:
                    raise exceptions.Conflict(f"{len(found)} {kind}s are named {resource!r} "
                                              f"in {source}: give the id")
                if found:
                    identity = str(found[0].get("id") or found[0].get("name") or resource)
                    located[(index, resource)] = Located(source, identity)
                    break
            else:
                raise exceptions.NotFound(
                    f"{kind} {resource!r} not found in {' or '.join(spec.sources)}")
    return located
