"""Encryption at rest of the Fernet keys Kingbird holds, with the master key.

Keys are stored as Fernet tokens of the master key (AES-128-CBC and
HMAC-SHA256, from ``cryptography``). ``[fernet] previous_master_keys`` keep
decrypting after the master key was replaced; new writes use the new one.
"""

from __future__ import annotations

import binascii
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from oslo_config import cfg

from kingbird.core import exceptions


class MasterKeyError(exceptions.ServiceUnavailable):
    """No usable master key: Fernet key management cannot run."""


class MasterCipher:
    """Encrypts and decrypts key material with the master key(s).

    :param master_key: encrypts (and decrypts).
    :param previous: decrypt only.
    :raises MasterKeyError: a key is not a valid Fernet key.
    """

    def __init__(self, master_key: str, previous: list[str] | tuple[str, ...] = ()):
        try:
            self._fernet = MultiFernet([Fernet(k) for k in (master_key, *previous) if k])
        except (ValueError, binascii.Error, TypeError) as exc:
            raise MasterKeyError(f"[fernet] master_key is not a Fernet key: {exc}") from None

    @classmethod
    def from_conf(cls, conf: cfg.ConfigOpts) -> MasterCipher:
        """:raises MasterKeyError: ``[fernet] master_key`` is unset or invalid."""
        if not conf.fernet.master_key:
            raise MasterKeyError("Fernet key management is off: set [fernet] master_key")
        return cls(conf.fernet.master_key, list(conf.fernet.previous_master_keys))

    def encrypt(self, material: str) -> str:
        return self._fernet.encrypt(material.encode()).decode()

    def decrypt(self, stored: str) -> str:
        """:raises MasterKeyError: none of the master keys decrypts ``stored``."""
        try:
            return self._fernet.decrypt(stored.encode()).decode()
        except InvalidToken:
            raise MasterKeyError("a stored Fernet key does not decrypt with [fernet] "
                                 "master_key nor previous_master_keys") from None


def new_key() -> str:
    """Fresh key material, as Keystone writes it in a repository file."""
    return Fernet.generate_key().decode()


def is_fernet_key(material: str) -> bool:
    """Whether ``material`` is a Fernet key (url-safe base64 of 32 bytes)."""
    try:
        Fernet(material.strip())
    except (ValueError, binascii.Error, TypeError, AttributeError):
        return False
    return True


def fingerprint(material: str) -> str:
    """A short public name of a key (never enough to recover it)."""
    return hashlib.sha256(material.strip().encode()).hexdigest()[:12]
