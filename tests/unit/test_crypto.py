"""Field encryption: AES-256-GCM, ``v<kid>:`` values, the column as associated data, rotation."""

import base64
import os
import re
import stat

import pytest
from sqlalchemy.dialects import sqlite

from simdebrief import crypto
from simdebrief.config import ConfigError, load_settings, validate_config
from simdebrief.crypto import (
    DecryptionError,
    EncryptedJSON,
    EncryptedText,
    KeyRing,
    KeyRingError,
)

PAYLOAD = "check_in.payload"
MESSAGE = "support_request.message"


def b64key(key: bytes | None = None) -> str:
    return base64.urlsafe_b64encode(key or os.urandom(32)).decode()


@pytest.fixture
def ring() -> KeyRing:
    return KeyRing.generate("1")


@pytest.fixture
def configured(ring, monkeypatch) -> KeyRing:
    """Install a key ring for the column types, restoring the previous one afterwards."""
    monkeypatch.setattr(crypto, "_keyring", ring)
    return ring


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    for name in list(os.environ):
        if name.startswith("SIMDEBRIEF_"):
            monkeypatch.delenv(name)


def flip(token: str, position: int) -> str:
    prefix, body = token.split(":", 1)
    raw = bytearray(base64.urlsafe_b64decode(body))
    raw[position] ^= 0x01
    return f"{prefix}:{base64.urlsafe_b64encode(bytes(raw)).decode()}"


def test_round_trip_and_format(ring):
    token = ring.encrypt("Jeg tænker på det hele tiden".encode(), PAYLOAD)
    assert re.fullmatch(r"v1:[A-Za-z0-9_-]+=*", token)
    assert ring.decrypt(token, PAYLOAD).decode() == "Jeg tænker på det hele tiden"
    # A fresh nonce every time: equal texts never look equal at rest.
    assert ring.encrypt(b"same", PAYLOAD) != ring.encrypt(b"same", PAYLOAD)


def test_column_types_round_trip_text_and_json(configured):
    dialect = sqlite.dialect()
    text_type, json_type = EncryptedText(MESSAGE), EncryptedJSON(PAYLOAD)
    stored = text_type.process_bind_param("Can we talk?", dialect)
    assert stored.startswith("v1:") and "talk" not in stored
    assert text_type.process_result_value(stored, dialect) == "Can we talk?"
    payload = {"distress": 7, "symptoms": ["guilt"], "free_text": "søvnløs"}
    stored = json_type.process_bind_param(payload, dialect)
    assert "distress" not in stored and "guilt" not in stored
    assert json_type.process_result_value(stored, dialect) == payload
    assert json_type.process_bind_param(None, dialect) is None
    assert json_type.process_result_value(None, dialect) is None


def test_the_column_is_bound_in_as_associated_data(configured):
    dialect = sqlite.dialect()
    stored = EncryptedText(MESSAGE).process_bind_param("hello", dialect)
    with pytest.raises(DecryptionError, match="integrity check"):
        EncryptedText("support_request_event.note").process_result_value(stored, dialect)
    with pytest.raises(DecryptionError):
        configured.decrypt(stored, PAYLOAD)


@pytest.mark.parametrize("position", [0, 11, 12, -1])
def test_a_flipped_byte_raises(ring, position):
    token = ring.encrypt(b"distress 8", PAYLOAD)
    with pytest.raises(DecryptionError):
        ring.decrypt(flip(token, position), PAYLOAD)


@pytest.mark.parametrize("damage", [
    lambda t: t[:-4],                # truncated
    lambda t: t + "A",               # extended
    lambda t: t.replace("v1:", "1:"),  # no version marker
    lambda t: t.split(":", 1)[1],    # no key id at all
    lambda t: t[:3] + "!" + t[4:],   # not base64
])
def test_damaged_values_raise_a_clear_error(ring, damage):
    token = ring.encrypt(b"x" * 20, PAYLOAD)
    with pytest.raises(DecryptionError, match=PAYLOAD):
        ring.decrypt(damage(token), PAYLOAD)


def test_old_key_still_decrypts_after_a_new_current_key(ring):
    old = ring.encrypt(b"written last year", PAYLOAD)
    rotated = ring.with_current("2", os.urandom(32))
    assert rotated.current == "2"
    assert rotated.decrypt(old, PAYLOAD) == b"written last year"
    new = rotated.encrypt(b"written today", PAYLOAD)
    assert new.startswith("v2:")
    with pytest.raises(DecryptionError, match="key id '2'"):
        ring.decrypt(new, PAYLOAD)


def test_parse_reads_ids_and_takes_the_first_as_current():
    first, second = os.urandom(32), os.urandom(32)
    ring = KeyRing.parse(f" 2026b:{b64key(first)} , 2025a:{base64.b64encode(second).decode()}")
    assert ring.current == "2026b"
    assert dict(ring.keys) == {"2026b": first, "2025a": second}
    assert KeyRing.parse(ring.serialize()).keys == ring.keys
    assert base64.urlsafe_b64encode(first).decode() not in repr(ring)


@pytest.mark.parametrize("value,message", [
    ("", "is empty"),
    ("justakey", "not in the form kid:base64key"),
    ("1:", "not in the form kid:base64key"),
    ("1:%%%notbase64%%%", "not valid base64"),
    (f"1:{b64key(os.urandom(16))}", "16 bytes"),
    (f"1:{b64key()},1:{b64key()}", "twice"),
    (f"key one:{b64key()}", "key id"),
], ids=lambda part: part if len(part) < 20 else "generated-key")  # stable ids for pytest-xdist
def test_malformed_key_lists_are_refused(value, message):
    with pytest.raises(KeyRingError, match=message):
        KeyRing.parse(value)


def settings(monkeypatch, tmp_path, **env):
    for name, value in env.items():
        monkeypatch.setenv(f"SIMDEBRIEF_{name}", value)
    return load_settings(tmp_path)


def test_validate_config_refuses_a_malformed_value_naming_the_variable(monkeypatch, tmp_path):
    secret = b64key(os.urandom(16))
    config = settings(monkeypatch, tmp_path, CHECKIN_KEYS=f"1:{secret}")
    with pytest.raises(ConfigError, match="SIMDEBRIEF_CHECKIN_KEYS") as error:
        validate_config(config, tmp_path)
    assert secret not in str(error.value)


def test_production_needs_checkin_keys(monkeypatch, tmp_path):
    config = settings(monkeypatch, tmp_path, ENV="production", SECRET_KEY="k" * 48)
    with pytest.raises(ConfigError, match="SIMDEBRIEF_CHECKIN_KEYS must be set in production"):
        validate_config(config, tmp_path)
    config = settings(monkeypatch, tmp_path, ENV="production", SECRET_KEY="k" * 48,
                      CHECKIN_KEYS=f"1:{b64key()}")
    validate_config(config, tmp_path)


def test_development_keyring_is_generated_once_and_private(tmp_path):
    first = crypto.development_keyring(tmp_path)
    second = crypto.development_keyring(tmp_path)
    assert first.keys == second.keys
    mode = stat.S_IMODE((tmp_path / "checkin_keys").stat().st_mode)
    assert mode == 0o600


def test_tests_get_an_in_memory_key_and_write_nothing(tmp_path):
    ring = crypto.keyring_from_config({"TESTING": True, "SIMDEBRIEF_ENV": "development"},
                                      tmp_path)
    assert ring.encrypt(b"x", PAYLOAD).startswith("vtest:")
    assert not (tmp_path / "checkin_keys").exists()


def test_configured_keys_win(tmp_path):
    key = os.urandom(32)
    ring = crypto.keyring_from_config({"SIMDEBRIEF_CHECKIN_KEYS": f"k1:{b64key(key)}",
                                       "TESTING": True}, tmp_path)
    assert ring.current == "k1" and ring.keys["k1"] == key


def test_the_column_type_renders_for_migrations():
    assert repr(EncryptedJSON(PAYLOAD)) == "EncryptedJSON('check_in.payload')"
    assert repr(EncryptedText(MESSAGE)) == "EncryptedText('support_request.message')"
