"""Benchmark: the agents' journal on a large journal — the page, filtered, and the CSV export.

    .venv/bin/python bench/journal.py --db postgres://postgres@127.0.0.1:5432/portail_bench_journal
    .venv/bin/python bench/journal.py --events 200000      # SQLite under var/bench/ by default

Seeds `--events` audit events (default 500,000) over 5,000 centres in the 18 regions (a tenth of
the events with no establishment: logins), then calls the journal's views through Django's test
client (every middleware, the session, the agent check, the queries, the template) as a national
agent and as an agent of one region: the page unfiltered, by region, by SIRET, by account, by
dates; and the CSV export of the region agent's whole journal, read to the end. Prints, for each,
the wall time and this process's CPU time (median and p95 over `--rounds`), the queries, and for
the export its rows, its size and the process's peak memory (max RSS) before and after it — the
export streams, so its memory must not grow with the journal. Never part of the test suite.
"""

import argparse
import os
import resource
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def setup_django(db_url: str | None) -> None:
    bench_dir = ROOT / "var" / "bench"
    bench_dir.mkdir(parents=True, exist_ok=True)
    if db_url is None:
        db_file = bench_dir / "journal.sqlite3"
        db_file.unlink(missing_ok=True)
        db_url = f"sqlite:///{db_file}"
    os.environ["DATABASE_URL"] = db_url
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


def measure(label: str, call, rounds: int) -> None:
    from django.db import connection

    queries = []

    def count(execute, sql, params, many, context):
        queries.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        response = call()
    assert response.status_code == 200, (label, response.status_code)
    walls, cpus = [], []
    for _ in range(rounds):
        c0, w0 = time.process_time(), time.perf_counter()
        call()
        walls.append((time.perf_counter() - w0) * 1000)
        cpus.append((time.process_time() - c0) * 1000)

    def p95(values: list[float]) -> float:
        return sorted(values)[max(0, int(len(values) * 0.95) - 1)]

    print(
        f"{label:<42} wall {statistics.median(walls):7.1f} / {p95(walls):7.1f} ms"
        f"   CPU {statistics.median(cpus):7.1f} / {p95(cpus):7.1f} ms   {len(queries)} queries",
        flush=True,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=500_000)
    parser.add_argument("--centres", type=int, default=5_000)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--db", default=None)
    args = parser.parse_args()
    setup_django(args.db)
    from django.db import connection
    from django.urls import reverse

    world = seed(args.events, args.centres)
    page, export = reverse("backoffice:journal"), reverse("backoffice:journal_csv")
    national, regional = client_for(world["national"]), client_for(world["regional"])
    print(f"{connection.vendor}, {args.events} événements ; médiane / p95 sur {args.rounds}")
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
        measure(f"page {label}", lambda c=client, p=params: c.get(page, p), args.rounds)

    for label, client in (("régional", regional), ("national", national)):
        before = rss_mb()
        c0, w0 = time.process_time(), time.perf_counter()
        response = client.get(export)
        size = rows = 0
        for chunk in response.streaming_content:
            size += len(chunk)
            rows += chunk.count(b"\n")
        wall, cpu = time.perf_counter() - w0, time.process_time() - c0
        print(
            f"export CSV, {label} : {rows - 1} lignes, {size / 1e6:.1f} Mo en {wall:.1f} s "
            f"(CPU {cpu:.1f} s), {rows / wall:,.0f} lignes/s ; "
            f"max RSS {before:.0f} → {rss_mb():.0f} Mo",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
