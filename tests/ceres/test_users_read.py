"""CERES' read of a user (every signed-in request's, and the sign-in's by `sub`) as one plain
statement: the same instance as the ORM's, field by field (None and aware moments, booleans,
quotes and <&> in a `sub`), the same nothing for an unknown or malformed key; on SQLite and, when
the suite runs on PostgreSQL, on PostgreSQL."""

import pytest

from tests.ceres.ceres_process import run_check, vendor

pytestmark = pytest.mark.django_db  # the suite's autouse fixtures clear the cache (in the database)


def test_a_user_read_as_the_orm_reads_it(tmp_path):
    assert run_check("users_read_check.py", tmp_path, "_ceres_users") == ["compared", vendor(), "9"]
