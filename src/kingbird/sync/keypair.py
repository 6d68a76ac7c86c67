"""Keypairs: the user's keypair copied, same name and public key, for the same user.

Only the public half exists in Nova once a keypair is created, so the copy is an
import of that public key; the user keeps using the private key they hold.
"""

from __future__ import annotations

from kingbird.regions.copying import Action, Copier, Scope, Task, already_exists, decide, not_found
from kingbird.regions.keypairs import Keypairs


def same_keypair(source: dict, target: dict) -> bool:
    """Equal public key and type (pure); fingerprints follow from the key."""
    return (source["public_key"].strip() == target["public_key"].strip()
            and source.get("type", "ssh") == target.get("type", "ssh"))


class KeypairCopier(Copier):
    resource_type = "keypair"

    def __init__(self, keypairs: Keypairs):
        self.keypairs = keypairs

    def locate(self, region: str, scope: Scope, resource: str) -> list[dict]:
        found = self.keypairs.get(region, scope.user_id, resource)
        return [] if found is None else [found]

    def copy(self, task: Task) -> None:
        user = task.scope.user_id
        source = self.keypairs.get(task.source, user, task.resource)
        if source is None:
            raise not_found("keypair", task.resource, task.source)
        target = self.keypairs.get(task.target, user, task.resource)
        exists = target is not None
        action = decide(exists, exists and same_keypair(source, target), task.force,
                        task.resumed)
        if action is Action.DONE:
            return
        if action is Action.REFUSE:
            raise already_exists("keypair", task.resource, task.target)
        task.progress.save({"action": action.value})
        if action is Action.REPLACE:
            self.keypairs.delete(task.target, user, task.resource)
        self.keypairs.create(task.target, user, task.resource, source["public_key"],
                             source.get("type", "ssh"))
