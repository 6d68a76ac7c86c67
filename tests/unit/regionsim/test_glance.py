"""Glance of regionsim: each route's rules, through Flask's test client (no sockets)."""

from __future__ import annotations

import hashlib
import io
import os
import tracemalloc

import pytest

from regionsim.app import build_flask_app
from regionsim.region import Region

G = "/image/v2"
PATCH_TYPE = "application/openstack-images-v2.1-json-patch"


def headers(project: str, admin: bool = False, **extra) -> dict:
    return {"X-User-Id": f"user-{project}", "X-Project-Id": project,
            "X-Roles": "admin,member" if admin else "member", **extra}


ADMIN = headers("admin-project", admin=True)
P1 = headers("p1")
P2 = headers("p2")
OCTET = {"Content-Type": "application/octet-stream"}


@pytest.fixture
def region():
    return Region(name="RegionOne")


@pytest.fixture
def client(region, tmp_path):
    app = build_flask_app(region)
    region.service("glance").data_dir = str(tmp_path / "images")
    return app.test_client()


def ok(resp, status=200):
    assert resp.status_code == status, resp.get_data(as_text=True)
    return resp.get_json()


def fails(resp, status: int) -> str:
    assert resp.status_code == status, resp.get_data(as_text=True)
    body = resp.get_json()
    assert body["code"].startswith(str(status)) and body["title"]
    return body["message"]


def create(client, h=P1, **attrs):
    attrs.setdefault("disk_format", "raw")
    attrs.setdefault("container_format", "bare")
    return ok(client.post(f"{G}/images", json=attrs, headers=h), 201)


def upload(client, image_id, data: bytes, h=P1):
    return client.put(f"{G}/images/{image_id}/file", data=data, headers={**h, **OCTET})


def patch(client, image_id, ops, h=P1, content_type=PATCH_TYPE):
    return client.patch(f"{G}/images/{image_id}", json=ops,
                        headers={**h, "Content-Type": content_type})


# -- versions --------------------------------------------------------------------

def test_version_documents(client):
    root = client.get("/image/")
    assert root.status_code == 300
    listed = ok(client.get("/image/versions"))["versions"]
    current = [v for v in listed if v["status"] == "CURRENT"]
    assert len(current) == 1 and current[0]["links"][0]["href"].endswith("/image/v2/")


def test_image_schema_is_served(client):
    schema = ok(client.get(f"{G}/schemas/image", headers=P1))
    assert schema["name"] == "image" and "visibility" in schema["properties"]


# -- create and show ---------------------------------------------------------------

def test_created_image_is_queued_with_glance_defaults(client):
    image = create(client, name="cirros", os_distro="cirros")
    assert image["status"] == "queued" and image["visibility"] == "shared"
    assert image["owner"] == "p1" and image["protected"] is False
    for key in ("checksum", "size", "virtual_size", "os_hash_value", "os_hash_algo"):
        assert image[key] is None
    assert image["os_distro"] == "cirros"
    assert image["self"] == f"/v2/images/{image['id']}"
    assert image["file"] == f"/v2/images/{image['id']}/file"
    assert image["schema"] == "/v2/schemas/image"
    assert ok(client.get(f"{G}/images/{image['id']}", headers=P1)) == image


def test_public_images_are_for_admins(client):
    resp = client.post(f"{G}/images", json={"name": "x", "visibility": "public"}, headers=P1)
    assert "publicize_image" in fails(resp, 403)
    image = create(client, ADMIN, name="x", visibility="public")
    assert ok(client.get(f"{G}/images/{image['id']}", headers=P2))["visibility"] == "public"
    create(client, P1, visibility="community")


def test_read_only_and_invalid_attributes_are_refused(client):
    fails(client.post(f"{G}/images", json={"status": "active"}, headers=P1), 403)
    fails(client.post(f"{G}/images", json={"size": 3}, headers=P1), 403)
    fails(client.post(f"{G}/images", json={"disk_format": "exe"}, headers=P1), 400)
    fails(client.post(f"{G}/images", json={"min_ram": -1}, headers=P1), 400)
    fails(client.post(f"{G}/images", json={"extra": 5}, headers=P1), 400)


def test_chosen_id_and_duplicate(client):
    image_id = "0b5e6a7c-1f0c-4d3a-9d1e-6a2b3c4d5e6f"
    assert create(client, id=image_id)["id"] == image_id
    fails(client.post(f"{G}/images", json={"id": image_id}, headers=P1), 409)


def test_private_images_are_invisible_to_other_projects(client):
    image = create(client, visibility="private")
    assert "No image found" in fails(client.get(f"{G}/images/{image['id']}", headers=P2), 404)
    ok(client.get(f"{G}/images/{image['id']}", headers=ADMIN))
    fails(client.delete(f"{G}/images/{image['id']}", headers=P2), 404)


# -- data ----------------------------------------------------------------------------

def test_upload_then_download_round_trip(client, region):
    data = os.urandom(300_000)
    image = create(client)
    assert upload(client, image["id"], data).status_code == 204
    shown = ok(client.get(f"{G}/images/{image['id']}", headers=P1))
    assert shown["status"] == "active" and shown["size"] == len(data)
    assert shown["checksum"] == hashlib.md5(data).hexdigest()
    assert shown["os_hash_algo"] == "sha512"
    assert shown["os_hash_value"] == hashlib.sha512(data).hexdigest()
    assert shown["virtual_size"] == len(data)
    resp = client.get(f"{G}/images/{image['id']}/file", headers=P1)
    assert resp.status_code == 200 and resp.data == data
    assert resp.headers["Content-MD5"] == shown["checksum"]
    assert resp.headers["Content-Length"] == str(len(data))
    assert resp.headers["Content-Type"] == "application/octet-stream"
    state = region.service("glance")
    assert state.image_content_digest(image["id"]) == hashlib.sha256(data).hexdigest()
    path = state.images[image["id"]]["_path"]
    assert os.path.exists(path) and path.startswith(state.data_dir)
    assert client.delete(f"{G}/images/{image['id']}", headers=P1).status_code == 204
    assert not os.path.exists(path)


def test_upload_is_streamed_not_buffered(client):
    size = 24 * 1024 * 1024
    chunk = b"\x5a" * (1024 * 1024)

    class Body(io.RawIOBase):
        def __init__(self):
            self.left = size

        def readable(self):
            return True

        def readinto(self, buffer):
            n = min(len(buffer), self.left, len(chunk))
            buffer[:n] = chunk[:n]
            self.left -= n
            return n

    image = create(client)
    tracemalloc.start()
    resp = client.put(f"{G}/images/{image['id']}/file", headers={**P1, **OCTET},
                      environ_overrides={"wsgi.input": Body(), "CONTENT_LENGTH": str(size)})
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert resp.status_code == 204
    assert peak < size // 4
    assert ok(client.get(f"{G}/images/{image['id']}", headers=P1))["size"] == size


def test_upload_rules(client):
    image = create(client)
    resp = client.put(f"{G}/images/{image['id']}/file", data=b"x",
                      headers={**P1, "Content-Type": "text/plain"})
    assert resp.status_code == 415
    bare = ok(client.post(f"{G}/images", json={"name": "no-format"}, headers=P1), 201)
    assert "disk_format" in fails(upload(client, bare["id"], b"x"), 400)
    assert upload(client, image["id"], b"abc").status_code == 204
    fails(upload(client, image["id"], b"again"), 409)
    other = create(client)
    fails(upload(client, other["id"], b"x", P2), 404)


def test_download_of_queued_image_is_204_and_ranges_are_206(client):
    image = create(client)
    assert client.get(f"{G}/images/{image['id']}/file", headers=P1).status_code == 204
    upload(client, image["id"], b"0123456789")
    resp = client.get(f"{G}/images/{image['id']}/file", headers={**P1, "Range": "bytes=2-5"})
    assert resp.status_code == 206 and resp.data == b"2345"
    assert resp.headers["Content-Range"] == "bytes 2-5/10"


def test_qcow2_virtual_size_is_read_from_the_header(client):
    header = b"QFI\xfb" + b"\x00" * 20 + (10 * 1024 ** 3).to_bytes(8, "big") + b"\x00" * 100
    image = create(client, disk_format="qcow2")
    upload(client, image["id"], header)
    assert ok(client.get(f"{G}/images/{image['id']}", headers=P1))["virtual_size"] == \
        10 * 1024 ** 3


def test_deactivated_image_data_is_admin_only(client):
    image = create(client)
    upload(client, image["id"], b"data")
    assert client.post(f"{G}/images/{image['id']}/actions/deactivate",
                       headers=ADMIN).status_code == 204
    assert ok(client.get(f"{G}/images/{image['id']}", headers=P1))["status"] == "deactivated"
    fails(client.get(f"{G}/images/{image['id']}/file", headers=P1), 403)
    assert client.get(f"{G}/images/{image['id']}/file", headers=ADMIN).data == b"data"
    client.post(f"{G}/images/{image['id']}/actions/reactivate", headers=ADMIN)
    assert client.get(f"{G}/images/{image['id']}/file", headers=P1).data == b"data"


# -- update and delete ---------------------------------------------------------------

def test_json_patch_add_replace_remove(client):
    image = create(client, name="a")
    ops = [{"op": "replace", "path": "/name", "value": "b"},
           {"op": "add", "path": "/hw_disk_bus", "value": "scsi"},
           {"op": "replace", "path": "/min_ram", "value": 512},
           {"op": "add", "path": "/tags", "value": ["x", "y"]},
           {"op": "replace", "path": "/visibility", "value": "private"}]
    updated = ok(patch(client, image["id"], ops))
    assert updated["name"] == "b" and updated["hw_disk_bus"] == "scsi"
    assert updated["min_ram"] == 512 and updated["tags"] == ["x", "y"]
    assert updated["visibility"] == "private"
    updated = ok(patch(client, image["id"], [{"op": "remove", "path": "/hw_disk_bus"}]))
    assert "hw_disk_bus" not in updated
    fails(patch(client, image["id"], [{"op": "replace", "path": "/missing", "value": "v"}]), 409)
    fails(patch(client, image["id"], [{"op": "remove", "path": "/missing"}]), 409)
    fails(patch(client, image["id"], [{"op": "remove", "path": "/name"}]), 403)
    fails(patch(client, image["id"], [{"op": "replace", "path": "/size", "value": 1}]), 403)
    fails(patch(client, image["id"], [{"op": "replace", "path": "/visibility",
                                       "value": "public"}]), 403)


def test_patch_needs_the_patch_media_type_and_ownership(client):
    image = create(client, visibility="community")
    resp = patch(client, image["id"], [], content_type="application/json")
    assert resp.status_code == 415
    fails(patch(client, image["id"], [{"op": "replace", "path": "/name", "value": "x"}], P2),
          403)


def test_protected_images_cannot_be_deleted(client):
    image = create(client, protected=True)
    assert "protected" in fails(client.delete(f"{G}/images/{image['id']}", headers=P1), 403)
    ok(patch(client, image["id"], [{"op": "replace", "path": "/protected", "value": False}]))
    assert client.delete(f"{G}/images/{image['id']}", headers=P1).status_code == 204
    fails(client.get(f"{G}/images/{image['id']}", headers=P1), 404)


def test_tags_can_be_added_and_removed(client):
    image = create(client)
    assert client.put(f"{G}/images/{image['id']}/tags/t1", headers=P1).status_code == 204
    assert ok(client.get(f"{G}/images/{image['id']}", headers=P1))["tags"] == ["t1"]
    assert client.delete(f"{G}/images/{image['id']}/tags/t1", headers=P1).status_code == 204
    fails(client.delete(f"{G}/images/{image['id']}/tags/t1", headers=P1), 404)


# -- listing -----------------------------------------------------------------------

def test_list_filters(client):
    a = create(client, name="a", visibility="private")
    create(client, name="b", visibility="private")
    create(client, P2, name="c", visibility="private")
    public = create(client, ADMIN, name="pub", visibility="public")

    def names(query="", h=P1):
        return sorted(i["name"] for i in ok(client.get(f"{G}/images{query}",
                                                       headers=h))["images"])

    assert names() == ["a", "b", "pub"]
    assert names("?name=a") == ["a"]
    assert names("?visibility=public") == ["pub"]
    assert names(f"?owner={public['owner']}") == ["pub"]
    assert names("?status=queued&visibility=private") == ["a", "b"]
    assert names(h=ADMIN) == ["a", "b", "c", "pub"]
    upload(client, a["id"], b"x")
    assert names("?status=active") == ["a"]


def test_list_pagination_follows_next(client):
    for i in range(5):
        create(client, name=f"i{i}")
    first = ok(client.get(f"{G}/images?limit=2", headers=P1))
    assert len(first["images"]) == 2 and first["next"].startswith("/v2/images?")
    seen = [i["id"] for i in first["images"]]
    page = first
    while "next" in page:
        page = ok(client.get("/image" + page["next"], headers=P1))
        seen += [i["id"] for i in page["images"]]
    assert len(seen) == len(set(seen)) == 5
    fails(client.get(f"{G}/images?marker=nope", headers=P1), 400)
    assert first["schema"] == "/v2/schemas/images"


def test_list_default_limit_is_25(client):
    for _ in range(27):
        create(client)
    page = ok(client.get(f"{G}/images", headers=P1))
    assert len(page["images"]) == 25 and "next" in page


def test_list_sorts_by_key(client):
    for name in ("b", "c", "a"):
        create(client, name=name)
    listed = ok(client.get(f"{G}/images?sort_key=name&sort_dir=asc", headers=P1))["images"]
    assert [i["name"] for i in listed] == ["a", "b", "c"]


# -- members -------------------------------------------------------------------------

def test_members_share_an_image(client):
    image = create(client, name="shared-img")
    member = ok(client.post(f"{G}/images/{image['id']}/members", json={"member": "p2"},
                            headers=P1))
    assert member["status"] == "pending" and member["member_id"] == "p2"
    assert member["schema"] == "/v2/schemas/member"
    fails(client.post(f"{G}/images/{image['id']}/members", json={"member": "p2"},
                      headers=P1), 409)

    def listed(query=""):
        return [i["name"] for i in ok(client.get(f"{G}/images{query}", headers=P2))["images"]]

    assert listed() == [] and listed("?member_status=pending") == ["shared-img"]
    ok(client.get(f"{G}/images/{image['id']}", headers=P2))  # members see it by id
    fails(client.put(f"{G}/images/{image['id']}/members/p2", json={"status": "accepted"},
                     headers=P1), 403)
    accepted = ok(client.put(f"{G}/images/{image['id']}/members/p2",
                             json={"status": "accepted"}, headers=P2))
    assert accepted["status"] == "accepted"
    assert listed() == ["shared-img"] and listed("?visibility=shared") == ["shared-img"]
    members = ok(client.get(f"{G}/images/{image['id']}/members", headers=P1))
    assert [m["member_id"] for m in members["members"]] == ["p2"]
    assert members["schema"] == "/v2/schemas/members"
    fails(client.delete(f"{G}/images/{image['id']}/members/p2", headers=P2), 403)
    assert client.delete(f"{G}/images/{image['id']}/members/p2", headers=P1).status_code == 204
    fails(client.get(f"{G}/images/{image['id']}", headers=P2), 404)


def test_only_shared_images_have_members(client):
    image = create(client, visibility="private")
    resp = client.post(f"{G}/images/{image['id']}/members", json={"member": "p2"}, headers=P1)
    assert "Only shared images" in fails(resp, 403)


# -- contract with Nova and Cinder ---------------------------------------------------

def test_snapshot_images_for_nova(client, region):
    state = region.service("glance")
    with region.lock:
        image = state.create_snapshot_image("p1", "snap", {"image_type": "snapshot"}, 1, 64,
                                            b"disk-bytes")
    assert image["status"] == "active" and image["visibility"] == "private"
    assert image["checksum"] == hashlib.md5(b"disk-bytes").hexdigest()
    assert state.image_content_digest(image["id"]) == hashlib.sha256(b"disk-bytes").hexdigest()
    shown = ok(client.get(f"{G}/images/{image['id']}", headers=P1))
    assert shown["image_type"] == "snapshot" and shown["min_ram"] == 64
    assert client.get(f"{G}/images/{image['id']}/file", headers=P1).data == b"disk-bytes"
    record = state.get_image(image["id"])
    for key in ("id", "owner", "visibility", "status", "size", "min_disk", "min_ram",
                "disk_format", "container_format", "name", "checksum", "properties"):
        assert key in record
    assert state.get_image("nope") is None


def test_visibility_contract(client, region):
    state = region.service("glance")
    image = create(client, visibility="private")
    record = state.get_image(image["id"])
    assert state.image_visible_to(record, "p1", False)
    assert not state.image_visible_to(record, "p2", False)
    assert state.image_visible_to(record, "p2", True)
    empty = create(client)
    assert state.image_content_digest(empty["id"]) == hashlib.sha256(b"").hexdigest()
