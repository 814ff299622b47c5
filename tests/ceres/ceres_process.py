"""A check script run in a CERES process of its own (CERES' settings, a test database of CERES'
own: SQLite, or PostgreSQL when the suite runs there), its output returned."""

import os
import subprocess
import sys
from pathlib import Path

from tests.ceres.server import ROOT


def run_check(script: str, tmp_path: Path, database_suffix: str) -> list[str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "ceres.settings.test",
        "CERES_VAR_DIR": str(tmp_path),
        "CERES_DATABASE_URL": f"sqlite:///{tmp_path / 'ceres.sqlite3'}",
    }
    if os.environ.get("DATABASE_URL", "").startswith("postgres"):
        env["CERES_DATABASE_URL"] = os.environ["DATABASE_URL"] + database_suffix
    result = subprocess.run(
        [sys.executable, str(ROOT / "tests" / "ceres" / script)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout.split()


def vendor() -> str:
    """The database vendor the checks run on."""
    return "postgresql" if os.environ.get("DATABASE_URL", "").startswith("postgres") else "sqlite"
