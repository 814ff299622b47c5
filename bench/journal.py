"""Benchmark: the agents' journal on a large journal — the page, filtered, and the CSV export.

    .venv/bin/python bench/journal.py --db postgres://postgres@127.0.0.1:5432/portail_bench_journal
    .venv/bin/python bench/journal.py --events 200000      # SQLite under var/bench/ by default

Seeds `--events` audit events (default 500,000) over 5,000 centres in the 18 regions (a tenth of
the events with no establishment: logins), then starts gunicorn (one sync worker, the production
settings, pinned to core 0) and asks it from this process (pinned to core 1), with the session
cookie of a national agent and of an agent of one region: the page unfiltered, by region, by
SIRET, by account, by dates, for the support; and the CSV export, read to the end. Prints, for
each, the wall time and the worker's own CPU time (/proc, median and p95 over `--rounds`), the
queries (counted once through Django's test client in this process), and for the export its rows,
its size and the worker's resident memory after it — the export streams, so that memory must not
grow with the journal. The worker's CPU time is read in clock ticks (10 ms). Never part of the
test suite.
"""

import argparse
import http.client
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


SECRETS = {
    "SECRET_KEY": "bench-journal-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
    "ALTCHA_HMAC_KEY": "bench-journal-altcha-key-0123456789",
    "CODE_HASH_KEY": "bench-journal-code-hash-key-0123456789",
}
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """The process's own user + system CPU time (/proc/<pid>/stat, fields 14 and 15)."""
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()  # noqa: PTH123, SIM115
    return (int(fields[11]) + int(fields[12])) / TICKS


def rss_mb(pid: int) -> float:
    for line in open(f"/proc/{pid}/status"):  # noqa: PTH123, SIM115
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Gunicorn:
    """gunicorn with the production settings, one sync worker pinned to core 0."""

    def __init__(self, db_url: str) -> None:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa

        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        self.port = free_port()
        env = {
            **os.environ,
            **SECRETS,
            "DJANGO_SETTINGS_MODULE": "portail.settings.prod",
            "DATABASE_URL": db_url,
            "ALLOWED_HOSTS": "127.0.0.1",
            "OIDC_RSA_PRIVATE_KEY": pem,
            "LOG_LEVEL": "WARNING",
        }
        env["PORTAIL_VAR_DIR"] = str(ROOT / "var" / "bench" / "journal-var")
        log = open(ROOT / "var" / "bench" / "journal-gunicorn.log", "w")  # noqa: PTH123, SIM115
        # The production settings serve the hashed static files named in collectstatic's manifest.
        subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
            cwd=ROOT,
            env=env,
            check=True,
            stdout=log,
            stderr=log,
        )
        self.process = subprocess.Popen(
            [
                "taskset",
                "-c",
                "0",
                sys.executable,
                "-m",
                "gunicorn",
                "portail.wsgi",
                "-w",
                "1",
                "-b",
                f"127.0.0.1:{self.port}",
                "--timeout",
                "600",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=log,
        )
        for _ in range(300):
            children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
            pids = children.read_text().split() if children.exists() else []
            if pids and self._up():
                self.worker = int(pids[0])
                return
            time.sleep(0.1)
        raise RuntimeError("gunicorn did not start: see var/bench/journal-gunicorn.log")

    def _up(self) -> bool:
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
        except OSError:
            return False
        return True

    def get(self, path: str, cookie: str) -> tuple[int, int, float]:
        """(status, bytes, worker CPU seconds) of one GET, read to the end."""
        before = cpu_seconds(self.worker)
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)
        connection.request("GET", path, headers={"Cookie": cookie, "X-Forwarded-Proto": "https"})
        response = connection.getresponse()
        size = 0
        while chunk := response.read(65536):
            size += len(chunk)
        connection.close()
        return response.status, size, cpu_seconds(self.worker) - before

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=30)


def setup_django(db_url: str | None) -> str:
    bench_dir = ROOT / "var" / "bench"
    bench_dir.mkdir(parents=True, exist_ok=True)
    if db_url is None:
        db_file = bench_dir / "journal.sqlite3"
        db_file.unlink(missing_ok=True)
        db_url = f"sqlite:///{db_file}"
    os.environ["DATABASE_URL"] = db_url
    os.environ.update(SECRETS)  # the session's auth hash must match the server's SECRET_KEY
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portail.settings.dev")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    settings.ALLOWED_HOSTS = ["*"]
    settings.DEBUG = False
    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    return db_url


def luhn(digits: str) -> str:
    for last in "0123456789":
        total = 0
        for i, ch in enumerate(reversed(digits + last)):
            d = int(ch) * (2 if i % 2 else 1)
            total += d - 9 if d > 9 else d
        if total % 10 == 0:
            return digits + last
    raise AssertionError


def seed(events: int, centres: int) -> dict:
    from django.db import connection, transaction
    from django.utils import timezone
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from portail.accounts.models import User
    from portail.audit.models import AuditEvent
    from portail.backoffice.models import AgentProfile
    from portail.centres.models import Centre, Region
    from portail.companies.models import Establishment

    AuditEvent.objects.all()._raw_delete(AuditEvent.objects.db)  # the journal is append-only
    Centre.objects.all().delete()
    Establishment.objects.filter(siret__startswith="7").delete()
    User.objects.filter(email__endswith="@bench.example").delete()
    regions = list(Region.objects.order_by("code"))
    with transaction.atomic():
        rows = []
        for n in range(centres):
            siren = luhn(f"7{n:07d}")
            rows.append(Establishment(siret=luhn(f"{siren}0001"), siren=siren, name=f"CENTRE {n}"))
        establishments = Establishment.objects.bulk_create(rows, batch_size=2000)
        Centre.objects.bulk_create(
            [
                Centre(
                    establishment=e,
                    region=regions[n % len(regions)],
                    letter_name=e.name,
                    letter_address="1 rue du Banc\n75001 PARIS",
                )
                for n, e in enumerate(establishments)
            ],
            batch_size=2000,
        )
        people = User.objects.bulk_create(
            [User(email=f"personne{n}@bench.example") for n in range(1000)]
        )
        national = User.objects.create_user("national@bench.example", "banc d'essai 2026")
        regional = User.objects.create_user("regional@bench.example", "banc d'essai 2026")
    AgentProfile.objects.create(user=national, is_national=True)
    regional_profile = AgentProfile.objects.create(user=regional)
    regional_profile.regions.set([regions[11]])  # 52, Pays de la Loire
    for user in (national, regional):
        TOTPDevice.objects.create(user=user, name="bench", confirmed=True)
    start = timezone.now() - timedelta(days=365)
    step = timedelta(days=365) / events
    actions = ["habilitation.granted", "habilitation.revoked", "demarche.activated"]
    print(f"Préparation : {events} événements, {centres} centres…", flush=True)
    t0 = time.perf_counter()
    batch = []
    for n in range(events):
        person = people[n % len(people)]
        no_establishment = n % 10 == 0
        establishment = establishments[(n * 7) % len(establishments)]
        batch.append(
            AuditEvent(
                actor_label=person.email,
                actor_id=person.pk,
                action="account.login" if no_establishment else actions[n % 3],
                target_type="accounts.user",
                target_id=str(person.pk),
                target_label=person.email,
                establishment_id=None if no_establishment else establishment.pk,
                data={"support": True, "reason": "Banc"} if n % 50 == 1 else {},
            )
        )
        if len(batch) == 10_000:
            AuditEvent.objects.bulk_create(batch)
            batch = []
    if batch:
        AuditEvent.objects.bulk_create(batch)
    # auto_now_add stamped them all now: spread them over the year, as a real journal is.
    with connection.cursor() as cursor:
        table = AuditEvent._meta.db_table
        cursor.execute(f"SELECT MIN(id) FROM {table}")  # noqa: S608 -- our own table name
        first = cursor.fetchone()[0]
        if connection.vendor == "postgresql":
            cursor.execute(
                f"UPDATE {table} SET at = %s + (id - %s) * %s",  # noqa: S608
                [start, first, step],
            )
            cursor.execute(f"ANALYZE {table}")
        else:
            cursor.execute(
                f"UPDATE {table} SET at = strftime('%%Y-%%m-%%d %%H:%%M:%%f', %s, "  # noqa: S608
                f"'+' || ((id - %s) * %s) || ' seconds')",
                [start.strftime("%Y-%m-%d %H:%M:%S"), first, step.total_seconds()],
            )
    print(f"  {time.perf_counter() - t0:.0f} s", flush=True)
    return {
        "national": national,
        "regional": regional,
        "siret": establishments[11].siret,
        "person": people[3].email,
        "region": str(regions[11].pk),
    }


def client_for(user):
    from django.test import Client
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    client = Client()
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = TOTPDevice.objects.get(user=user).persistent_id
    session.save()
    return client


def queries_of(client, path: str, params: dict) -> int:
    from django.db import connection

    queries = []

    def count(execute, sql, sql_params, many, context):
        queries.append(sql)
        return execute(sql, sql_params, many, context)

    with connection.execute_wrapper(count):
        response = client.get(path, params)
    assert response.status_code == 200, (path, params, response.status_code)
    return len(queries)


def p95(values: list[float]) -> float:
    return sorted(values)[max(0, int(len(values) * 0.95) - 1)]


def measure(server: Gunicorn, label: str, url: str, *, cookie: str, queries: int, rounds: int):
    server.get(url, cookie)  # warm-up: the worker's first imports and template loads
    walls, cpus = [], []
    for _ in range(rounds):
        w0 = time.perf_counter()
        status, _, cpu = server.get(url, cookie)
        assert status == 200, (label, status)
        walls.append((time.perf_counter() - w0) * 1000)
        cpus.append(cpu * 1000)
    print(
        f"{label:<42} wall {statistics.median(walls):7.1f} / {p95(walls):7.1f} ms"
        f"   CPU {statistics.median(cpus):7.1f} / {p95(cpus):7.1f} ms   {queries} queries",
        flush=True,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=500_000)
    parser.add_argument("--centres", type=int, default=5_000)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--db", default=None)
    args = parser.parse_args()
    db_url = setup_django(args.db)
    from urllib.parse import urlencode

    from django.db import connection
    from django.urls import reverse

    world = seed(args.events, args.centres)
    page, export = reverse("backoffice:journal"), reverse("backoffice:journal_csv")
    national, regional = client_for(world["national"]), client_for(world["regional"])
    cookies = {
        client: f"sessionid={client.cookies['sessionid'].value}" for client in (national, regional)
    }
    os.sched_setaffinity(0, {1})  # the client on the other core
    server = Gunicorn(db_url)
    try:
        print(
            f"{connection.vendor}, {args.events} événements ; gunicorn (production), "
            f"médiane / p95 sur {args.rounds}",
            flush=True,
        )
        cases = [
            ("national, sans filtre", national, {}),
            ("national, une région", national, {"region": world["region"]}),
            ("national, un SIRET", national, {"siret": world["siret"]}),
            ("national, un compte", national, {"account": world["person"]}),
            ("national, un mois", national, {"date_from": "2026-06-01", "date_to": "2026-06-30"}),
            ("national, assistance", national, {"support": "on"}),
            ("régional, sans filtre", regional, {}),
            ("régional, un compte", regional, {"account": world["person"]}),
            ("régional, page 100", regional, {"page": "100"}),
        ]
        for label, client, params in cases:
            url = f"{page}?{urlencode(params)}"
            queries = queries_of(client, page, params)
            measure(
                server,
                f"page {label}",
                url,
                cookie=cookies[client],
                queries=queries,
                rounds=args.rounds,
            )
        for label, client in (("régional", regional), ("national", national)):
            w0 = time.perf_counter()
            status, size, cpu = server.get(export, cookies[client])
            wall = time.perf_counter() - w0
            assert status == 200, status
            print(
                f"export CSV, {label} : {size / 1e6:.1f} Mo en {wall:.1f} s "
                f"(CPU du worker {cpu:.1f} s) ; mémoire du worker {rss_mb(server.worker):.0f} Mo",
                flush=True,
            )
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
