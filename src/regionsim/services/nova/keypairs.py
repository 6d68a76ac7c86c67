"""``os-keypairs`` of the simulated Nova, with real keys.

Generated keypairs are RSA 2048 like Nova's (private key in traditional
OpenSSL PEM, public key ``ssh-rsa ... Generated-by-Nova``); ``x509`` keypairs
get a self-signed certificate. Fingerprints are computed as Nova does: MD5 of
the SSH key blob, or SHA-1 of the certificate's DER, as colon-separated hex.

Microversions: 2.2 adds ``type`` (and 201/204 codes), 2.10 lets admins act
for another user with ``user_id``, 2.35 adds ``limit``/``marker``.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import hashlib
import re

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from flask import request

from regionsim.services.nova.common import (
    at_least,
    bad_request,
    body_object,
    conflict,
    forbidden,
    iso_micro,
    not_found,
    now,
    paginate,
    policy_denied,
    route,
    state,
)
from regionsim.web import caller, json_response

_NAME_RE = re.compile(r"^[a-zA-Z0-9 _.\-]{1,255}$")
_RULE = "os_compute_api:os-keypairs:{}"


def _colon_hex(digest: bytes) -> str:
    return ":".join(f"{b:02x}" for b in digest)


def ssh_fingerprint(public_key: str) -> str:
    """MD5 fingerprint of an OpenSSH public key line; ValueError if it is not one."""
    parts = public_key.strip().split()
    if len(parts) < 2:
        raise ValueError("not an OpenSSH public key")
    try:
        blob = base64.b64decode(parts[1], validate=True)
        serialization.load_ssh_public_key(f"{parts[0]} {parts[1]}".encode())
    except (binascii.Error, ValueError, TypeError, serialization.UnsupportedAlgorithm) as exc:
        raise ValueError("not an OpenSSH public key") from exc
    return _colon_hex(hashlib.md5(blob, usedforsecurity=False).digest())


def x509_fingerprint(pem: str) -> str:
    """SHA-1 fingerprint of a PEM certificate; ValueError if it is not one."""
    cert = x509.load_pem_x509_certificate(pem.encode())
    return _colon_hex(cert.fingerprint(hashes.SHA1()))  # noqa: S303 - Nova's choice


def generate_ssh() -> tuple[str, str, str]:
    """(private PEM, public line, fingerprint) of a fresh RSA 2048 keypair."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM,
                                serialization.PrivateFormat.TraditionalOpenSSL,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                           serialization.PublicFormat.OpenSSH).decode()
    public += " Generated-by-Nova"
    return private, public, ssh_fingerprint(public)


def generate_x509(user_id: str, project_id: str) -> tuple[str, str, str]:
    """(private PEM, certificate PEM, fingerprint) of a self-signed certificate."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{user_id}-{project_id}")])
    start = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(start).not_valid_after(start + datetime.timedelta(days=3650))
            .sign(key, hashes.SHA256()))
    private = key.private_bytes(serialization.Encoding.PEM,
                                serialization.PrivateFormat.TraditionalOpenSSL,
                                serialization.NoEncryption()).decode()
    public = cert.public_bytes(serialization.Encoding.PEM).decode()
    return private, public, x509_fingerprint(public)


def _target_user(requested: str | None, rule: str) -> str:
    """The user whose keypairs are meant; ``user_id`` is honoured from 2.10, admin only."""
    who = caller()
    if requested is None or not at_least(10):
        return who.user_id
    if requested != who.user_id and not who.is_admin:
        raise policy_denied(_RULE.format(rule))
    return requested


def _summary(kp: dict) -> dict:
    body = {"name": kp["name"], "public_key": kp["public_key"],
            "fingerprint": kp["fingerprint"]}
    if at_least(2):
        body["type"] = kp["type"]
    return body


def _detail(kp: dict) -> dict:
    body = _summary(kp)
    body.update({"user_id": kp["user_id"], "deleted": False,
                 "created_at": iso_micro(kp["created_at"]), "updated_at": None,
                 "deleted_at": None, "id": kp["id"]})
    return body


@route("/os-keypairs", methods=("POST",))
def create_keypair():
    spec = body_object("keypair")
    name = spec.get("name")
    if not isinstance(name, str) or not _NAME_RE.match(name) or not name.strip():
        raise bad_request(f"Invalid input for field/attribute name. Value: {name}. "
                          "Keypair name contains unsafe characters or is empty")
    kp_type = spec.get("type", "ssh") if at_least(2) else "ssh"
    if kp_type not in ("ssh", "x509"):
        raise bad_request(f"Invalid input for field/attribute type. Value: {kp_type}. "
                          f"'{kp_type}' is not one of ['ssh', 'x509']")
    who = caller()
    user_id = _target_user(spec.get("user_id"), "create")
    public_key = spec.get("public_key")
    private_key = None
    if public_key is None:
        if kp_type == "ssh":
            private_key, public_key, fingerprint = generate_ssh()
        else:
            private_key, public_key, fingerprint = generate_x509(user_id, who.project_id)
    else:
        try:
            fingerprint = (ssh_fingerprint(public_key) if kp_type == "ssh"
                           else x509_fingerprint(public_key))
        except (ValueError, TypeError, AttributeError):
            raise bad_request("Keypair data is invalid: failed to generate "
                              "fingerprint") from None
    nova = state()
    with nova.lock:
        owned = nova.keypairs.setdefault(user_id, {})
        limit = nova.quotas.limit(who.project_id, "key_pairs")
        if limit != -1 and len(owned) >= limit:
            raise forbidden("Quota exceeded, too many key pairs.")
        if name in owned:
            raise conflict(f"Key pair '{name}' already exists.")
        kp = {"id": nova.region.next_int(), "name": name, "user_id": user_id,
              "public_key": public_key, "fingerprint": fingerprint, "type": kp_type,
              "created_at": now()}
        owned[name] = kp
    body = _summary(kp)
    body["user_id"] = user_id
    if private_key is not None:
        body["private_key"] = private_key
    return json_response({"keypair": body}, 201 if at_least(2) else 200)


@route("/os-keypairs")
def list_keypairs():
    user_id = _target_user(request.args.get("user_id"), "index")
    nova = state()
    with nova.lock:
        items = sorted(nova.keypairs.get(user_id, {}).values(), key=lambda k: k["name"])
    if at_least(35):
        items = paginate(items, key="name")
    return json_response({"keypairs": [{"keypair": _summary(kp)} for kp in items]})


def _find(name: str, user_id: str) -> dict:
    kp = state().keypairs.get(user_id, {}).get(name)
    if kp is None:
        raise not_found(f"Keypair {name} not found for user {user_id}")
    return kp


@route("/os-keypairs/<name>")
def show_keypair(name: str):
    user_id = _target_user(request.args.get("user_id"), "show")
    with state().lock:
        kp = _find(name, user_id)
    return json_response({"keypair": _detail(kp)})


@route("/os-keypairs/<name>", methods=("DELETE",))
def delete_keypair(name: str):
    user_id = _target_user(request.args.get("user_id"), "delete")
    nova = state()
    with nova.lock:
        _find(name, user_id)
        del nova.keypairs[user_id][name]
    return json_response(None, 204 if at_least(2) else 202)
