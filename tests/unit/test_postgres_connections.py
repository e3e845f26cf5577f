"""Which statements may run outside a transaction on PostgreSQL: plain reads only."""

import pytest

from simdebrief.postgres_connections import only_reads


@pytest.mark.parametrize("statement, reads", [
    ("SELECT 1", True),
    ("  select id from x", True),
    ("SHOW server_version", True),
    ("SELECT id FROM follow_up WHERE status = 1 FOR UPDATE SKIP LOCKED", False),
    ("SELECT id FROM x FOR NO KEY UPDATE", False),
    ("SELECT id FROM x FOR SHARE", False),
    ("WITH gone AS (DELETE FROM x RETURNING id) SELECT id FROM gone", False),
    ("INSERT INTO x VALUES (1)", False),
    ("SAVEPOINT sa_savepoint_1", False),
])
def test_what_counts_as_a_read(statement, reads):
    assert only_reads(statement) is reads
