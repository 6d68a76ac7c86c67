"""Flavors (administrators only): sizes, extra specs, and a private flavor's access.

A flavor keeps its id in every region (Nova lets an admin choose it), so that
scripts and images' metadata that name a flavor by id work everywhere. Nova
flavors cannot be changed once created (except their description), so a flavor
whose sizes differ is deleted and created again; extra specs and the access list
are brought in line in place.
"""

from __future__ import annotations

from kingbird.regions.copying import Action, Copier, Scope, Task, already_exists, decide, not_found
from kingbird.regions.flavors import Flavors, create_body, flavor_core


def spec_changes(wanted: dict[str, str], present: dict[str, str]) -> tuple[dict, list[str]]:
    """``(to_set, to_unset)`` turning ``present`` extra specs into ``wanted`` (pure)."""
    to_set = {k: v for k, v in wanted.items() if present.get(k) != v}
    return to_set, sorted(set(present) - set(wanted))


def access_changes(wanted: list[str], present: list[str]) -> tuple[list[str], list[str]]:
    """``(to_add, to_remove)`` projects turning one access list into the other (pure)."""
    return sorted(set(wanted) - set(present)), sorted(set(present) - set(wanted))


class FlavorCopier(Copier):
    resource_type = "flavor"
    admin_only = True

    def __init__(self, flavors: Flavors):
        self.flavors = flavors

    def locate(self, region: str, scope: Scope, resource: str) -> list[dict]:
        found = self.flavors.find(region, resource)
        return [] if found is None else [found]

    def _specs(self, region: str, flavor: dict) -> dict[str, str]:
        if isinstance(flavor.get("extra_specs"), dict):
            return dict(flavor["extra_specs"])
        return self.flavors.extra_specs(region, flavor["id"])

    def _access(self, region: str, flavor: dict) -> list[str]:
        if flavor_core(flavor)["is_public"]:
            return []
        return self.flavors.access(region, flavor["id"])

    def _clashing(self, region: str, source: dict) -> list[dict]:
        """Target flavors with the source's id or name (Nova makes both unique)."""
        found = {f["id"]: f for f in self.flavors.list_all(region) if f["name"] == source["name"]}
        same_id = self.flavors.get(region, source["id"])
        if same_id is not None:
            found[same_id["id"]] = same_id
        return list(found.values())

    def copy(self, task: Task) -> None:
        source = self.flavors.find(task.source, task.resource)
        if source is None:
            raise not_found("flavor", task.resource, task.source)
        specs = self._specs(task.source, source)
        access = self._access(task.source, source)
        clashing = self._clashing(task.target, source)
        kept = None
        if (len(clashing) == 1 and clashing[0]["id"] == source["id"]
                and flavor_core(clashing[0]) == flavor_core(source)):
            kept = clashing[0]
        same = kept is not None and (self._specs(task.target, kept) == specs
                                     and self._access(task.target, kept) == access)
        action = decide(bool(clashing), same, task.force, task.resumed)
        if action is Action.DONE:
            return
        if action is Action.REFUSE:
            raise already_exists("flavor", source["name"], task.target)
        task.progress.save({"action": action.value})
        if kept is None:
            for flavor in clashing:
                self.flavors.delete(task.target, flavor["id"])
            kept = self.flavors.create(task.target,
                                       create_body(flavor_core(source), source["id"]))
        self._converge(task.target, kept, specs, access)

    def _converge(self, region: str, flavor: dict, specs: dict[str, str],
                  access: list[str]) -> None:
        to_set, to_unset = spec_changes(specs, self._specs(region, flavor))
        if to_set:
            self.flavors.set_extra_specs(region, flavor["id"], to_set)
        for key in to_unset:
            self.flavors.unset_extra_spec(region, flavor["id"], key)
        if flavor_core(flavor)["is_public"]:
            return
        to_add, to_remove = access_changes(access, self.flavors.access(region, flavor["id"]))
        for project_id in to_add:
            self.flavors.add_access(region, flavor["id"], project_id)
        for project_id in to_remove:
            self.flavors.remove_access(region, flavor["id"], project_id)
