"""In-memory stand-ins of the region resource clients, for the copiers' unit tests.

They keep the same method signatures as ``kingbird.regions.{keypairs, flavors,
images, security_groups}`` and count every write, so a test can check that a
resumed entry does not do its work twice.
"""

from __future__ import annotations

import hashlib
import uuid
from collections import Counter
from typing import Any

from kingbird.core.exceptions import LeaseLost, RegionError
from kingbird.regions.copying import Scope, Task

SCOPE = Scope(project_id="p" * 32, user_id="u" * 32)


class FakeProgress:
    def __init__(self, checkpoint: dict | None = None, lose_after_checks: int | None = None):
        self.checkpoint = checkpoint
        self.saved: list[dict] = []
        self.checks = 0
        self.lose_after_checks = lose_after_checks

    def save(self, checkpoint: dict[str, Any]) -> None:
        self.check()
        self.saved.append(dict(checkpoint))
        self.checkpoint = dict(checkpoint)

    def check(self) -> None:
        self.checks += 1
        if self.lose_after_checks is not None and self.checks > self.lose_after_checks:
            raise LeaseLost("taken over")


def task(resource: str, force: bool = False, progress: FakeProgress | None = None,
         target: str = "R2") -> Task:
    return Task(resource=resource, source="R1", target=target, force=force, scope=SCOPE,
                progress=progress or FakeProgress())


class Writes:
    def __init__(self):
        self.count: Counter[str] = Counter()

    def __call__(self, what: str) -> None:
        self.count[what] += 1

    @property
    def total(self) -> int:
        return sum(self.count.values())


class FakeKeypairs:
    def __init__(self):
        self.store: dict[tuple[str, str, str], dict] = {}
        self.writes = Writes()

    def get(self, region, user_id, name):
        kp = self.store.get((region, user_id, name))
        return None if kp is None else dict(kp)

    def create(self, region, user_id, name, public_key, key_type="ssh"):
        self.writes("create")
        assert (region, user_id, name) not in self.store, "duplicate keypair"
        self.store[(region, user_id, name)] = {"name": name, "public_key": public_key,
                                               "type": key_type}
        return self.store[(region, user_id, name)]

    def delete(self, region, user_id, name):
        self.writes("delete")
        self.store.pop((region, user_id, name), None)


class FakeFlavors:
    def __init__(self):
        self.flavors: dict[str, dict[str, dict]] = {}  # region -> id -> flavor
        self.specs: dict[tuple[str, str], dict] = {}
        self.acl: dict[tuple[str, str], set[str]] = {}
        self.writes = Writes()

    def add(self, region, flavor, specs=None, access=()):
        self.flavors.setdefault(region, {})[flavor["id"]] = dict(flavor)
        self.specs[(region, flavor["id"])] = dict(specs or {})
        self.acl[(region, flavor["id"])] = set(access)

    def get(self, region, flavor_id):
        flavor = self.flavors.get(region, {}).get(flavor_id)
        return None if flavor is None else dict(flavor)

    def list_all(self, region):
        return [dict(f) for f in self.flavors.get(region, {}).values()]

    def find(self, region, name_or_id):
        return self.get(region, name_or_id) or next(
            (f for f in self.list_all(region) if f["name"] == name_or_id), None)

    def create(self, region, spec):
        self.writes("create")
        flavor = {"id": spec["id"], "name": spec["name"], "ram": spec["ram"],
                  "vcpus": spec["vcpus"], "disk": spec["disk"],
                  "OS-FLV-EXT-DATA:ephemeral": spec["OS-FLV-EXT-DATA:ephemeral"],
                  "swap": spec["swap"], "rxtx_factor": spec["rxtx_factor"],
                  "os-flavor-access:is_public": spec["os-flavor-access:is_public"],
                  "description": spec.get("description")}
        assert not any(f["name"] == flavor["name"] or f["id"] == flavor["id"]
                       for f in self.list_all(region)), "duplicate flavor"
        self.add(region, flavor)
        return dict(flavor)

    def delete(self, region, flavor_id):
        self.writes("delete")
        self.flavors.get(region, {}).pop(flavor_id, None)

    def extra_specs(self, region, flavor_id):
        return dict(self.specs[(region, flavor_id)])

    def set_extra_specs(self, region, flavor_id, specs):
        self.writes("set_specs")
        self.specs[(region, flavor_id)].update(specs)

    def unset_extra_spec(self, region, flavor_id, key):
        self.writes("unset_spec")
        self.specs[(region, flavor_id)].pop(key, None)

    def access(self, region, flavor_id):
        return sorted(self.acl[(region, flavor_id)])

    def add_access(self, region, flavor_id, project_id):
        self.writes("add_access")
        self.acl[(region, flavor_id)].add(project_id)

    def remove_access(self, region, flavor_id, project_id):
        self.writes("remove_access")
        self.acl[(region, flavor_id)].discard(project_id)


class FakeData:
    def __init__(self, data: bytes, chunk_size: int, fail_at: int | None = None):
        self.data = data
        self.chunk_size = chunk_size
        self.fail_at = fail_at
        self.closed = False

    def __iter__(self):
        for offset in range(0, len(self.data), self.chunk_size):
            if self.fail_at is not None and offset >= self.fail_at:
                raise RegionError("R1", "image download interrupted", transient=True)
            yield self.data[offset:offset + self.chunk_size]

    def close(self):
        self.closed = True


class FakeImages:
    def __init__(self):
        self.images: dict[str, dict[str, dict]] = {}  # region -> id -> image
        self.data: dict[tuple[str, str], bytes] = {}
        self.writes = Writes()
        self.download_failures: list[int] = []  # byte offsets, one per coming download
        self.corrupt_uploads = False
        self.largest_chunk = 0
        self.opened: list[FakeData] = []

    def add(self, region, image, data=b""):
        image = dict(image)
        if data:
            image.update(status="active", size=len(data),
                         checksum=hashlib.md5(data, usedforsecurity=False).hexdigest())
        self.images.setdefault(region, {})[image["id"]] = image
        self.data[(region, image["id"])] = data

    def get(self, region, image_id):
        image = self.images.get(region, {}).get(image_id)
        return None if image is None else dict(image)

    def by_name(self, region, owner, name):
        return [dict(i) for i in self.images.get(region, {}).values()
                if i.get("name") == name and i.get("owner") == owner]

    def find(self, region, owner, name_or_id):
        image = self.get(region, name_or_id)
        if image is not None and image.get("owner") == owner:
            return [image]
        return self.by_name(region, owner, name_or_id)

    def create(self, region, record):
        self.writes("create")
        image_id = record.get("id") or str(uuid.uuid4())
        if image_id in self.images.get(region, {}):
            raise RegionError(region, f"create image: HTTP 409: {image_id} exists",
                              status=409)
        image = {**record, "id": image_id, "status": "queued", "size": None, "checksum": None}
        self.images.setdefault(region, {})[image_id] = image
        return dict(image)

    def patch(self, region, image_id, operations):
        self.writes("patch")
        for op in operations:
            self.images[region][image_id][op["path"].lstrip("/")] = op["value"]
        return self.get(region, image_id)

    def delete(self, region, image_id):
        self.writes("delete")
        assert not self.images.get(region, {}).get(image_id, {}).get("protected")
        self.images.get(region, {}).pop(image_id, None)

    def open_data(self, region, image_id, chunk_size):
        fail_at = self.download_failures.pop(0) if self.download_failures else None
        data = FakeData(self.data[(region, image_id)], chunk_size, fail_at)
        self.opened.append(data)
        return data

    def upload(self, region, image_id, chunks, size):
        self.writes("upload")
        received = bytearray()
        for chunk in chunks:
            self.largest_chunk = max(self.largest_chunk, len(chunk))
            received += chunk
        assert len(received) == size
        if self.corrupt_uploads:
            received[0] ^= 0xFF
        image = self.images[region][image_id]
        image.update(status="active", size=len(received),
                     checksum=hashlib.md5(bytes(received), usedforsecurity=False).hexdigest())
        self.data[(region, image_id)] = bytes(received)


class FakeGroups:
    def __init__(self):
        self.groups: dict[str, dict[str, dict]] = {}  # region -> id -> group
        self.rule_rows: dict[str, dict[str, dict]] = {}  # region -> id -> rule
        self.writes = Writes()

    def add(self, region, project_id, name, description="", rules=(), egress=True):
        group = {"id": str(uuid.uuid4()), "name": name, "description": description,
                 "project_id": project_id}
        self.groups.setdefault(region, {})[group["id"]] = group
        if egress:
            for ethertype in ("IPv4", "IPv6"):
                self._rule(region, group["id"], {"direction": "egress", "ethertype": ethertype})
        for rule in rules:
            rule = dict(rule)
            if rule.get("remote_group_id") == "self":
                rule["remote_group_id"] = group["id"]
            self._rule(region, group["id"], rule)
        return group

    def _rule(self, region, group_id, rule):
        row = {"id": str(uuid.uuid4()), "security_group_id": group_id, "ethertype": "IPv4",
               "protocol": None,
               "port_range_min": None, "port_range_max": None, "remote_ip_prefix": None,
               "remote_group_id": None, "remote_address_group_id": None, "description": "",
               **rule}
        self.rule_rows.setdefault(region, {})[row["id"]] = row
        return row

    def get(self, region, group_id):
        group = self.groups.get(region, {}).get(group_id)
        return None if group is None else dict(group)

    def by_name(self, region, project_id, name):
        return [dict(g) for g in self.groups.get(region, {}).values()
                if g["name"] == name and g["project_id"] == project_id]

    def find(self, region, project_id, name_or_id):
        group = self.get(region, name_or_id)
        if group is not None and group["project_id"] == project_id:
            return [group]
        return self.by_name(region, project_id, name_or_id)

    def create(self, region, project_id, name, description):
        self.writes("create")
        return self.add(region, project_id, name, description)

    def update_description(self, region, group_id, description):
        self.writes("update")
        self.groups[region][group_id]["description"] = description

    def rules(self, region, group_id):
        return [dict(r) for r in self.rule_rows.get(region, {}).values()
                if r["security_group_id"] == group_id]

    def create_rule(self, region, project_id, group_id, rule):
        self.writes("create_rule")
        return self._rule(region, group_id, rule)

    def delete_rule(self, region, rule_id):
        self.writes("delete_rule")
        self.rule_rows.get(region, {}).pop(rule_id, None)
