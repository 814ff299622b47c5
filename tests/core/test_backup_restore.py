"""The documented restore (docs/deploy.md, "Backups"): scripts/backup.sh dumps a populated
database, scripts/restore.sh restores it into a fresh one, and the portal started on the restored
database logs a person in and lets them into CERES through single sign-on. PostgreSQL only."""

import os
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
import requests
from django.apps import apps
from django.db import connection

from bench.load import journeys
from portail.audit.journal import record
from portail.demarches.models import Role
from portail.notifications.models import OutboxEmail
from tests.ceres.fixtures import register_ceres
from tests.ceres.server import CeresServer, free_port
from tests.factories import PASSWORD, EstablishmentFactory, HabilitationFactory, UserFactory

pytestmark = [
    pytest.mark.postgres_only(reason="pg_dump and pg_restore: run with DATABASE_URL=postgres://…"),
    pytest.mark.django_db(transaction=True),
]

ROOT = Path(__file__).resolve().parents[2]


def url_of(name: str) -> str:
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{name}"


def row_counts(cursor) -> dict[str, int]:
    counts = {}
    for model in apps.get_models(include_auto_created=True):
        table = model._meta.db_table
        cursor.execute(f'SELECT count(*) FROM "{table}"')  # noqa: S608 (our own table names)
        counts[table] = cursor.fetchone()[0]
    return counts


def run(*command: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False
    )


@pytest.fixture
def restored_name():
    name = f"{connection.settings_dict['NAME']}_restored"
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    yield name
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class PortalServer:
    """The portal in its own process on the restored database (runserver, test settings)."""

    def __init__(self, port: int, database_url: str, log: Path):
        self.port = port
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "DATABASE_URL": database_url, "PYTHONUNBUFFERED": "1"}
        env["DJANGO_SETTINGS_MODULE"] = "portail.settings.test"
        self.log = log
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "manage.py", "runserver", f"127.0.0.1:{self.port}", "--noreload"],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                requests.get(f"{self.url}/healthz", timeout=2)
                return
            except requests.ConnectionError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"the portal did not start:\n{log.read_text()}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


def test_a_dump_restored_into_a_fresh_database_runs_the_portal_and_ceres(tmp_path, restored_name):
    # A populated database: a person habilitated for CERES, their journal, an email queued.
    user = UserFactory(first_name="Rose", last_name="Restauration")
    centre = EstablishmentFactory(name="Centre restauré")
    dump = tmp_path / "backup" / "portail.dump"

    # The portal's address decides CERES' issuer: choose it now, register CERES for it.
    restored_url = url_of(restored_name)
    portal_port = free_port()
    portal_url = f"http://127.0.0.1:{portal_port}"
    (tmp_path / "ceres").mkdir()
    ceres = CeresServer(portal_url, tmp_path / "ceres")
    demarche = register_ceres(ceres)
    for code in ("gestionnaire-centres", "centre-agree"):
        HabilitationFactory(
            user=user, role=Role.objects.get(demarche=demarche, code=code), establishment=centre
        )
    record("account.profile_updated", actor=user, target=user)
    OutboxEmail.objects.create(
        recipient=user.email, subject="Objet", body_text="Texte", category="test"
    )
    with connection.cursor() as cursor:
        before = row_counts(cursor)

    backup = run("scripts/backup.sh", url_of(connection.settings_dict["NAME"]), str(dump))
    assert backup.returncode == 0, backup.stderr
    assert dump.stat().st_size > 10_000
    restore = run("scripts/restore.sh", str(dump), restored_url)
    assert restore.returncode == 0, restore.stderr
    # Never over an existing database.
    again = run("scripts/restore.sh", str(dump), restored_url)
    assert again.returncode == 1
    assert "exists" in again.stderr

    # Every table holds what the source held.
    with psycopg.connect(restored_url) as restored:
        after = row_counts(restored.cursor())
    assert after == before
    assert before["notifications_outboxemail"] >= 1
    assert before["audit_auditevent"] >= 1

    # The portal's checks pass on it: no migration missing, the system checks.
    env = {**os.environ, "DATABASE_URL": restored_url}
    env["DJANGO_SETTINGS_MODULE"] = "portail.settings.test"
    check = run(sys.executable, "manage.py", "migrate", "--check", env=env)
    assert check.returncode == 0, check.stdout + check.stderr
    check = run(sys.executable, "manage.py", "check", "--database", "default", env=env)
    assert check.returncode == 0, check.stdout + check.stderr

    # And it works: a person logs in, sees CERES in "Mes démarches" and enters it.
    portal = PortalServer(portal_port, restored_url, tmp_path / "portal.log")
    ceres.start()
    try:
        session = requests.Session()
        journeys.portal_login(session, portal_url, user.email, PASSWORD)
        assert "CERES" in journeys.mes_demarches(session, portal_url).text
        page = journeys.enter_ceres(session, ceres.url, expected="Centre restauré")
        assert "Rose Restauration" in page.text
    finally:
        ceres.stop()
        portal.stop()
    assert OutboxEmail.objects.count() == before["notifications_outboxemail"]
