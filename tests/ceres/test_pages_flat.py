"""CERES' pages through their flattened chain of templates (dsfr_layout.kept_extends) are the
same bytes as through Django's block context: checked in a CERES process
(tests/ceres/pages_flat_check.py), every page, signed in and not, names with <, & and quotes."""

import os
import subprocess
import sys

import pytest

from tests.ceres.server import ROOT

pytestmark = pytest.mark.django_db  # the suite's autouse fixtures clear the cache (in the database)


def test_ceres_pages_are_the_same_bytes_flattened(tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "ceres.settings.test",
        "CERES_VAR_DIR": str(tmp_path),
        "CERES_DATABASE_URL": f"sqlite:///{tmp_path / 'ceres.sqlite3'}",
    }
    result = subprocess.run(
        [sys.executable, str(ROOT / "tests" / "ceres" / "pages_flat_check.py")],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.split() == ["compared", "44"], result.stdout
