"""Re-encrypting stored values to the newest key, and the start-up check that the key ring
reads what is stored (``flask keys rotate``; ``create_app``)."""

from __future__ import annotations

from simdebrief.crypto import (
    SEALED_FIELDS,
    DecryptionError,
    KeyRing,
    Sealed,
    current_keyring,
    key_id_of,
)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _column(owner: type, sealed: Sealed):
    return owner.__table__.c[sealed.column]


def _not_current(column, keyring: KeyRing):
    return column.isnot(None) & ~column.like(_escape_like(f"v{keyring.current}:") + "%",
                                             escape="\\")


def count_to_rotate(connection) -> int:
    """How many stored values are not yet under the current key."""
    from sqlalchemy import func, select

    keyring = current_keyring()
    total = 0
    for owner, sealed in SEALED_FIELDS:
        column = _column(owner, sealed)
        total += connection.scalar(
            select(func.count()).select_from(owner.__table__)
            .where(_not_current(column, keyring)))
    return total


def rotate_batch(connection, *, batch: int = 500) -> int:
    """Re-encrypt up to ``batch`` values of each column to the current key; the number done.

    Values already under the current key are never touched, so a run that stops half way
    (or two runs at once) simply continues where the work is left.
    """
    from sqlalchemy import select, update

    keyring = current_keyring()
    done = 0
    for owner, sealed in SEALED_FIELDS:
        table = owner.__table__
        column = _column(owner, sealed)
        rows = connection.execute(
            select(table.c.id, column).where(_not_current(column, keyring))
            .order_by(table.c.id).limit(batch)).all()
        for row_id, token in rows:
            plaintext = keyring.decrypt(token, sealed.aad(row_id))
            connection.execute(
                update(table).where(table.c.id == row_id, column == token)
                .values({sealed.column: keyring.encrypt(plaintext, sealed.aad(row_id))}))
            done += 1
    return done


class KeyCheckError(RuntimeError):
    """The key ring cannot read what is stored; the message names the key id, never a key."""


def check_stored_values(connection, *, sample: int = 5) -> None:
    """Refuse a key ring that lacks a key the stored values use, or whose keys do not decrypt
    a sample of rows (the oldest and newest of each column)."""
    from sqlalchemy import inspect, select

    keyring = current_keyring()
    known = sorted(keyring.keys)
    tables = set(inspect(connection).get_table_names())
    for owner, sealed in SEALED_FIELDS:
        table = owner.__table__
        if table.name not in tables:
            continue
        column = _column(owner, sealed)
        readable = column.like(_escape_like(f"v{known[0]}:") + "%", escape="\\")
        for kid in known[1:]:
            readable = readable | column.like(_escape_like(f"v{kid}:") + "%", escape="\\")
        stranger = connection.scalar(
            select(column).where(column.isnot(None), ~readable).limit(1))
        if stranger is not None:
            kid = key_id_of(stranger)
            raise KeyCheckError(
                f"{table.name}.{sealed.column} holds values encrypted with key id {kid!r}, "
                f"which is not in SIMDEBRIEF_CHECKIN_KEYS (it has {', '.join(known)}); "
                "add that key back, then run `flask --app app keys rotate` before removing it")
        rows = []
        for order in (table.c.id.asc(), table.c.id.desc()):
            rows += connection.execute(
                select(table.c.id, column).where(column.isnot(None))
                .order_by(order).limit(sample)).all()
        for row_id, token in rows:
            try:
                keyring.decrypt(token, sealed.aad(row_id))
            except DecryptionError:
                raise KeyCheckError(
                    f"{table.name}.{sealed.column} row {row_id} does not decrypt with key id "
                    f"{key_id_of(token)!r} of SIMDEBRIEF_CHECKIN_KEYS: the key with that id is "
                    "not the one the data was written with") from None
