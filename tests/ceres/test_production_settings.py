"""CERES in production: secrets mandatory, check --deploy clean."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.kept_connection import KEPT_BETWEEN_REQUESTS

pytestmark = pytest.mark.django_db  # the autouse cache fixture uses the database cache

ROOT = Path(__file__).resolve().parents[2]
PROD = {
    "DJANGO_SETTINGS_MODULE": "ceres.settings.prod",
    "CERES_SECRET_KEY": "ceres-prod-test-key-with-enough-length-and-entropy-0123456789abcdef",
    "CERES_OIDC_CLIENT_ID": "ceres",
    "CERES_OIDC_CLIENT_SECRET": "secret",
    "CERES_ALLOWED_HOSTS": "ceres.example",
}


def run(env: dict, *command: str) -> subprocess.CompletedProcess:
    """`manage.py <command>` (by default `check --deploy`) in a CERES process with `env`."""
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("CERES_") and k not in ("DJANGO_ALLOW_ASYNC_UNSAFE", "DATABASE_URL")
    }
    return subprocess.run(
        [
            sys.executable,
            "ceres/manage.py",
            *(command or ("check", "--deploy", "--fail-level", "WARNING")),
        ],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_ceres_production_settings_pass_check_deploy():
    result = run(PROD)
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_ceres_production_refuses_to_start_without_its_client_secret():
    result = run({k: v for k, v in PROD.items() if k != "CERES_OIDC_CLIENT_SECRET"})
    assert result.returncode != 0
    assert "CERES_OIDC_CLIENT_SECRET must be set in production" in result.stderr


@pytest.mark.parametrize(("module", "kept"), [("prod", "True"), ("dev", "False")])
def test_ceres_production_workers_keep_their_connection_between_requests(tmp_path, module, kept):
    """SQLite parses the whole schema at a connection's first statement: a production worker
    keeps its connection from one request to the next."""
    env = {
        **PROD,
        "DJANGO_SETTINGS_MODULE": f"ceres.settings.{module}",
        "CERES_DATABASE_URL": f"sqlite:///{tmp_path / 'kept.sqlite3'}",
    }
    result = run(env, "shell", "-c", KEPT_BETWEEN_REQUESTS)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1].split() == ["sqlite", kept]
