"""CERES' `feed.roles_since` (the landing page's read of the portal's pushed changes) as one plain
statement: the same answer as the ORM's query, case by case (boundaries at the microsecond, an
aware moment in another zone, roles with accents, quotes in a `sub`), on SQLite and, when the
suite runs on PostgreSQL, on PostgreSQL (a test database of CERES' own, made and dropped)."""

import pytest

from tests.ceres.ceres_process import run_check, vendor

pytestmark = pytest.mark.django_db  # the suite's autouse fixtures clear the cache (in the database)


def test_roles_since_answers_as_the_orm(tmp_path):
    output = run_check("roles_since_check.py", tmp_path, "_ceres_roles")
    assert output[:2] == ["compared", vendor()], output
