"""Field encryption for emotional data: AES-256-GCM, with the key id stored in every value.

A stored value reads ``v<kid>:<urlsafe base64 of nonce ‖ ciphertext>``. Models store their
values through ``Sealed`` attributes, whose associated data names table, column and row
(``<table>.<column>#<id>``), so a value copied into another column or row does not decrypt.
The older column types ``EncryptedText``/``EncryptedJSON`` bind the column only; they remain
for the migrations that created and then re-encrypted those columns. Decryption picks the key
by its id, so new values can use a new key while older values stay readable until
``flask keys rotate`` re-encrypts them.

Keys come from ``SIMDEBRIEF_CHECKIN_KEYS`` as ``kid:base64key,kid2:base64key`` (the first is
the one new values use). Generate a key with::

    python -c "import base64, os; print('1:' + base64.urlsafe_b64encode(os.urandom(32)).decode())"
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Text
from sqlalchemy.types import TypeDecorator

KEY_BYTES = 32
NONCE_BYTES = 12
KEY_ID = re.compile(r"^[A-Za-z0-9_-]{1,16}$")
FORMAT_HINT = "kid:base64key,kid2:base64key (each key 32 random bytes, base64-encoded)"


class KeyRingError(ValueError):
    """A key ring cannot be built from the given value; the message never contains a key."""


class DecryptionError(RuntimeError):
    """A stored value is not one this key ring produced: tampered, moved, or its key is gone."""


def _decode_key(text: str) -> bytes:
    text = text.strip()
    padded = text + "=" * (-len(text) % 4)
    try:
        return base64.b64decode(padded.replace("-", "+").replace("_", "/"), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise KeyRingError("is not valid base64") from exc


def _encode_key(key: bytes) -> str:
    return base64.urlsafe_b64encode(key).decode("ascii")


@dataclass(frozen=True, eq=False)
class KeyRing:
    """Keys by id, and the id of the key that encrypts new values."""

    keys: Mapping[str, bytes]
    current: str
    _ciphers: Mapping[str, AESGCM] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.keys:
            raise KeyRingError("contains no keys")
        for kid, key in self.keys.items():
            if not KEY_ID.match(kid):
                raise KeyRingError(
                    f"has a key id {kid!r} that is not 1-16 letters, digits, '-' or '_'")
            if len(key) != KEY_BYTES:
                raise KeyRingError(
                    f"has a key {kid!r} of {len(key)} bytes; AES-256 needs {KEY_BYTES}")
        if self.current not in self.keys:
            raise KeyRingError(f"has no key with the current id {self.current!r}")
        object.__setattr__(self, "keys", MappingProxyType(dict(self.keys)))
        object.__setattr__(self, "_ciphers", MappingProxyType(
            {kid: AESGCM(key) for kid, key in self.keys.items()}))

    def __repr__(self) -> str:  # never show key material in logs or tracebacks
        return f"KeyRing(current={self.current!r}, ids={sorted(self.keys)!r})"

    @classmethod
    def parse(cls, value: str) -> KeyRing:
        """Read ``kid:base64key,kid2:base64key``; the first entry is the current key."""
        keys: dict[str, bytes] = {}
        entries = [entry.strip() for entry in (value or "").split(",")]
        if not any(entries):
            raise KeyRingError(f"is empty; expected {FORMAT_HINT}")
        for position, entry in enumerate(entries, start=1):
            kid, separator, key_text = entry.partition(":")
            kid = kid.strip()
            if not separator or not kid or not key_text.strip():
                raise KeyRingError(f"entry {position} is not in the form kid:base64key; "
                                   f"expected {FORMAT_HINT}")
            if kid in keys:
                raise KeyRingError(f"names the key id {kid!r} twice")
            try:
                keys[kid] = _decode_key(key_text)
            except KeyRingError as exc:
                raise KeyRingError(f"entry {position} (key id {kid!r}) {exc}") from None
        return cls(keys, current=next(iter(keys)))

    @classmethod
    def generate(cls, kid: str = "1") -> KeyRing:
        return cls({kid: AESGCM.generate_key(bit_length=KEY_BYTES * 8)}, current=kid)

    def with_current(self, kid: str, key: bytes) -> KeyRing:
        """A ring where ``kid`` encrypts new values and every older key still decrypts."""
        return KeyRing({**self.keys, kid: key}, current=kid)

    def serialize(self) -> str:
        """The ``SIMDEBRIEF_CHECKIN_KEYS`` form of this ring, current key first."""
        ordered = [self.current] + [kid for kid in self.keys if kid != self.current]
        return ",".join(f"{kid}:{_encode_key(self.keys[kid])}" for kid in ordered)

    def encrypt(self, plaintext: bytes, aad: str) -> str:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._ciphers[self.current].encrypt(nonce, plaintext, aad.encode("utf-8"))
        return f"v{self.current}:" + base64.urlsafe_b64encode(nonce + sealed).decode("ascii")

    def decrypt(self, token: str, aad: str) -> bytes:
        kid, separator, body = token.partition(":")
        if not separator or not kid.startswith("v"):
            raise DecryptionError(f"{aad}: the stored value is not in the form v<kid>:<data>")
        kid = kid[1:]
        cipher = self._ciphers.get(kid)
        if cipher is None:
            raise DecryptionError(
                f"{aad}: the value was encrypted with key id {kid!r}, which is not in "
                "SIMDEBRIEF_CHECKIN_KEYS")
        try:
            raw = base64.urlsafe_b64decode(body.encode("ascii"))
        except (binascii.Error, ValueError, UnicodeEncodeError):
            raw = b""
        # Only the canonical encoding is accepted, so no character of the text can change
        # without the change being noticed.
        if len(raw) <= NONCE_BYTES or base64.urlsafe_b64encode(raw).decode("ascii") != body:
            raise DecryptionError(f"{aad}: the stored value is damaged")
        try:
            return cipher.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], aad.encode("utf-8"))
        except InvalidTag:
            raise DecryptionError(
                f"{aad}: the stored value failed its integrity check (changed, or copied "
                "from another column)") from None


# --- the application's key ring ---------------------------------------------------------------

_keyring: KeyRing | None = None
_testing_keyring: KeyRing | None = None


def configure(keyring: KeyRing) -> None:
    global _keyring
    _keyring = keyring


def current_keyring() -> KeyRing:
    if _keyring is None:
        raise RuntimeError("field encryption is not configured; create the app first")
    return _keyring


def development_keyring(instance_path: Path) -> KeyRing:
    """A key generated once per checkout and kept in instance/, so local data stays readable."""
    key_file = instance_path / "checkin_keys"
    if key_file.exists():
        try:
            return KeyRing.parse(key_file.read_text().strip())
        except KeyRingError as exc:
            raise KeyRingError(f"{key_file} {exc}") from None
    instance_path.mkdir(parents=True, exist_ok=True)
    keyring = KeyRing.generate()
    descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(keyring.serialize())
    return keyring


def keyring_from_config(config: Mapping[str, Any], instance_path: Path) -> KeyRing:
    """The configured keys; otherwise one in-memory key for tests, or the development key.

    ``validate_config`` has already refused production without keys. Tests share one random
    key per process, so two apps in one test read each other's rows.
    """
    global _testing_keyring
    value = config.get("SIMDEBRIEF_CHECKIN_KEYS")
    if value:
        return KeyRing.parse(value)
    if config.get("SIMDEBRIEF_ENV") == "production":
        raise KeyRingError("SIMDEBRIEF_CHECKIN_KEYS must be set in production")
    if config.get("TESTING"):
        if _testing_keyring is None:
            _testing_keyring = KeyRing.generate("test")
        return _testing_keyring
    return development_keyring(instance_path)


# --- column types ---------------------------------------------------------------------------


class EncryptedText(TypeDecorator):
    """Text encrypted at rest; ``aad`` is the column's ``<table>.<column>`` name."""

    impl = Text
    cache_ok = True

    def __init__(self, aad: str):
        super().__init__()
        self.aad = aad

    def __repr__(self) -> str:  # how migrations render the type
        return f"{type(self).__name__}({self.aad!r})"

    def _encode(self, value: Any) -> bytes:
        if not isinstance(value, str):
            raise TypeError(f"{self.aad} holds text, not {type(value).__name__}")
        return value.encode("utf-8")

    def _decode(self, plaintext: bytes) -> Any:
        return plaintext.decode("utf-8")

    def process_bind_param(self, value: Any, dialect) -> str | None:
        if value is None:
            return None
        return current_keyring().encrypt(self._encode(value), self.aad)

    def process_result_value(self, value: str | None, dialect) -> Any:
        if value is None:
            return None
        return self._decode(current_keyring().decrypt(value, self.aad))

    def process_literal_param(self, value: Any, dialect) -> str:
        raise TypeError(f"{self.aad} is encrypted and cannot be rendered as a literal")


class EncryptedJSON(EncryptedText):
    """A JSON document encrypted at rest. Assign a new value to change it (no mutation tracking)."""

    def _encode(self, value: Any) -> bytes:
        return json.dumps(value, ensure_ascii=False, sort_keys=True,
                          separators=(",", ":")).encode("utf-8")

    def _decode(self, plaintext: bytes) -> Any:
        return json.loads(plaintext.decode("utf-8"))


# --- values bound to their row ---------------------------------------------------------------
#
# The column types above bind a value to its column only, so a ciphertext copied to another
# row of the same column would still decrypt. Models therefore keep the ciphertext in a plain
# ``Text`` column and expose the plaintext through a ``Sealed`` attribute whose associated data
# is ``<table>.<column>#<row id>``.
#
# A new row has no id until it is inserted. Its value is therefore held in memory and the
# column receives a one-off placeholder; right after the INSERT (``after_insert``, same
# transaction and connection) the value is encrypted with the new id and written by an UPDATE.
# A row never leaves a transaction holding the placeholder, and the plaintext never reaches the
# database. Rows that already have an id are encrypted at assignment.

PENDING_PREFIX = "pending:"


def row_aad(table: str, column: str, row_id: object) -> str:
    return f"{table}.{column}#{row_id}"


def legacy_aad(table: str, column: str) -> str:
    """The associated data before rows were bound in (the column name only)."""
    return f"{table}.{column}"


def key_id_of(token: str) -> str | None:
    kid, separator, _body = token.partition(":")
    return kid[1:] if separator and kid.startswith("v") else None


class Sealed:
    """A model attribute stored encrypted in the plain column attribute ``column_attr``."""

    def __init__(self, column_attr: str, *, table: str, column: str, as_json: bool = False):
        self.column_attr = column_attr
        self.table = table
        self.column = column
        self.as_json = as_json
        self.name = column

    def __set_name__(self, owner, name: str) -> None:
        self.name = name
        self.cache_key = f"_sealed_plain_{name}"
        SEALED_FIELDS.append((owner, self))

    def aad(self, row_id: object) -> str:
        return row_aad(self.table, self.column, row_id)

    def encode(self, value: Any) -> bytes:
        if self.as_json:
            return json.dumps(value, ensure_ascii=False, sort_keys=True,
                              separators=(",", ":")).encode("utf-8")
        if not isinstance(value, str):
            raise TypeError(f"{self.table}.{self.column} holds text, not {type(value).__name__}")
        return value.encode("utf-8")

    def decode(self, plaintext: bytes) -> Any:
        text = plaintext.decode("utf-8")
        return json.loads(text) if self.as_json else text

    def seal(self, value: Any, row_id: object) -> str:
        return current_keyring().encrypt(self.encode(value), self.aad(row_id))

    def open(self, token: str, row_id: object) -> Any:
        return self.decode(current_keyring().decrypt(token, self.aad(row_id)))

    def __get__(self, obj, owner=None):
        if obj is None:
            return self
        stored = getattr(obj, self.column_attr)
        cached = obj.__dict__.get(self.cache_key)
        if cached is not None and cached[0] == stored:
            return cached[1]
        if stored is None:
            return None
        value = self.open(stored, obj.id)
        obj.__dict__[self.cache_key] = (stored, value)
        return value

    def __set__(self, obj, value: Any) -> None:
        if value is None:
            stored = None
        elif getattr(obj, "id", None) is not None:
            stored = self.seal(value, obj.id)
        else:
            self.encode(value)  # refuse a wrong type now, not at flush
            stored = PENDING_PREFIX + os.urandom(12).hex()
        setattr(obj, self.column_attr, stored)
        obj.__dict__[self.cache_key] = (stored, value)


#: Every (model class, Sealed attribute): what key rotation and the start-up check visit.
SEALED_FIELDS: list[tuple[type, Sealed]] = []


def seal_pending_values(mapper, connection, target) -> None:
    """``after_insert``: encrypt values set before the row had an id, bound to that id."""
    from sqlalchemy import update
    from sqlalchemy.orm.attributes import set_committed_value

    for owner, sealed in SEALED_FIELDS:
        if not isinstance(target, owner):
            continue
        stored = getattr(target, sealed.column_attr)
        if stored is None or not stored.startswith(PENDING_PREFIX):
            continue
        value = target.__dict__[sealed.cache_key][1]
        token = sealed.seal(value, target.id)
        table = mapper.local_table
        connection.execute(update(table).where(table.c.id == target.id)
                           .values({sealed.column: token}))
        set_committed_value(target, sealed.column_attr, token)
        target.__dict__[sealed.cache_key] = (token, value)


def listen_for_inserts(model: type) -> None:
    from sqlalchemy import event

    event.listen(model, "after_insert", seal_pending_values)
