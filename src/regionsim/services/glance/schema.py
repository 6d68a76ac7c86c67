"""The image schema's rules: which attributes exist, which are read-only, valid values.

Pure functions over plain dicts, shared by image create and JSON-patch update.
"""

from __future__ import annotations

from regionsim.services.glance.errors import bad_request, forbidden

DISK_FORMATS = ("ami", "ari", "aki", "vhd", "vhdx", "vmdk", "raw", "qcow2", "vdi", "iso",
                "ploop")
CONTAINER_FORMATS = ("ami", "ari", "aki", "bare", "ovf", "ova", "docker", "compressed")
VISIBILITIES = ("public", "private", "shared", "community")
# Attributes a client may write, by create or by patch.
WRITABLE = ("name", "visibility", "protected", "os_hidden", "min_disk", "min_ram",
            "disk_format", "container_format", "tags", "owner")
READ_ONLY = frozenset({"id", "status", "checksum", "os_hash_algo", "os_hash_value", "size",
                       "virtual_size", "created_at", "updated_at", "self", "file", "schema",
                       "direct_url", "locations", "stores"})
RESERVED = frozenset({"deleted", "deleted_at", "owner_id"})


def _mismatch(detail: str):
    return bad_request(f"Provided object does not match schema 'image': {detail}")


def check_key(key: str) -> None:
    """Refuse read-only (403) and reserved (403) attribute names, as Glance does."""
    if key in READ_ONLY:
        raise forbidden(f"Attribute '{key}' is read-only.")
    if key in RESERVED:
        raise forbidden(f"Attribute '{key}' is reserved.")


def validate(doc: dict) -> None:
    """Check writable core attributes and extra properties of an image document."""
    name = doc.get("name")
    if name is not None and (not isinstance(name, str) or len(name) > 255):
        raise _mismatch(f"{name!r} is not valid under any of the given schemas")
    if doc.get("visibility") not in VISIBILITIES:
        raise _mismatch(f"{doc.get('visibility')!r} is not one of {list(VISIBILITIES)}")
    for key in ("protected", "os_hidden"):
        if not isinstance(doc.get(key), bool):
            raise _mismatch(f"{doc.get(key)!r} is not of type 'boolean'")
    for key in ("min_disk", "min_ram"):
        value = doc.get(key)
        if isinstance(value, bool) or not isinstance(value, int):
            raise _mismatch(f"{value!r} is not of type 'integer'")
        if value < 0:
            raise _mismatch(f"{value!r} is less than the minimum of 0")
    for key, allowed in (("disk_format", DISK_FORMATS), ("container_format", CONTAINER_FORMATS)):
        value = doc.get(key)
        if value is not None and value not in allowed:
            raise _mismatch(f"{value!r} is not one of {list(allowed)}")
    tags = doc.get("tags")
    if not isinstance(tags, list) or not all(isinstance(t, str) and len(t) <= 255 for t in tags):
        raise _mismatch(f"{tags!r} is not a valid list of tags")
    for key, value in doc.get("properties", {}).items():
        if not isinstance(value, str):
            raise _mismatch(f"{value!r} is not of type 'string' (property {key!r})")
        if len(key) > 255:
            raise _mismatch(f"property name {key!r} is too long")
