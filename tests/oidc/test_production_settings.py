"""Production: the ID-token key is mandatory, http redirect URIs are refused, check --deploy passes."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from portail.oidc.keys import generate_private_key
from tests.kept_connection import KEPT_BETWEEN_REQUESTS

pytestmark = pytest.mark.django_db  # the autouse cache fixture uses the database cache

ROOT = Path(__file__).resolve().parents[2]
PROD_ENV = {
    "DJANGO_SETTINGS_MODULE": "portail.settings.prod",
    "SECRET_KEY": "prod-test-secret-key-with-enough-length-and-entropy-0123456789abcdef",
    "ALTCHA_HMAC_KEY": "prod-test",
    "CODE_HASH_KEY": "prod-test",
    "ALLOWED_HOSTS": "portail.example",
}


def run_manage(*args, **env):
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("OIDC_") and k != "DJANGO_ALLOW_ASYNC_UNSAFE"  # set by conftest
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, **PROD_ENV, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_production_refuses_to_start_without_a_signing_key():
    result = run_manage("check")
    assert result.returncode != 0
    assert "OIDC_RSA_PRIVATE_KEY must be set in production" in result.stderr


def test_production_with_a_key_file_passes_check_deploy_and_allows_https_only(tmp_path):
    key = tmp_path / "oidc.pem"
    key.write_text(generate_private_key())
    result = run_manage(
        "shell",
        "-c",
        "from django.conf import settings; "
        "from django.core.management import call_command; "
        "print(settings.OAUTH2_PROVIDER['ALLOWED_REDIRECT_URI_SCHEMES']); "
        "print(settings.OAUTH2_PROVIDER['OIDC_RSA_PRIVATE_KEY'].startswith('-----BEGIN')); "
        "call_command('check', deploy=True, fail_level='WARNING')",
        OIDC_RSA_PRIVATE_KEY_FILE=str(key),
    )
    assert result.returncode == 0, result.stderr
    assert "['https']\nTrue\n" in result.stdout


@pytest.mark.parametrize(("module", "kept"), [("prod", "True"), ("dev", "False")])
def test_production_workers_keep_their_sqlite_connection_between_requests(tmp_path, module, kept):
    """SQLite parses the whole schema at a connection's first statement: in production a worker
    keeps its connection; the development server's threads end with their request."""
    key = tmp_path / "oidc.pem"
    key.write_text(generate_private_key())
    result = run_manage(
        "shell",
        "-c",
        KEPT_BETWEEN_REQUESTS,
        OIDC_RSA_PRIVATE_KEY_FILE=str(key),
        DJANGO_SETTINGS_MODULE=f"portail.settings.{module}",
        DATABASE_URL=f"sqlite:///{tmp_path / 'kept.sqlite3'}",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1].split() == ["sqlite", kept]
