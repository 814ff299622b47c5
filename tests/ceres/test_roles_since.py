"""CERES' `feed.roles_since` (the landing page's read of the portal's pushed changes) as one plain
statement: the same answer as the ORM's query, case by case (boundaries at the microsecond, an
aware moment in another zone, roles with accents, quotes in a `sub`), on SQLite and, when the
suite runs on PostgreSQL, on PostgreSQL (a test database of CERES' own, made and dropped)."""

import os
import subprocess
import sys

import pytest

from tests.ceres.server import ROOT

pytestmark = pytest.mark.django_db  # the suite's autouse fixtures clear the cache (in the database)


def test_roles_since_answers_as_the_orm(tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "ceres.settings.test",
        "CERES_VAR_DIR": str(tmp_path),
        "CERES_DATABASE_URL": f"sqlite:///{tmp_path / 'ceres.sqlite3'}",
    }
    vendors = ["sqlite"]
    if os.environ.get("DATABASE_URL", "").startswith("postgres"):
        env["CERES_DATABASE_URL"] = os.environ["DATABASE_URL"] + "_ceres_roles"
        vendors = ["postgresql"]
    result = subprocess.run(
        [sys.executable, str(ROOT / "tests" / "ceres" / "roles_since_check.py")],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.split()[:2] == ["compared", vendors[0]], result.stdout
