"""Benchmark of the gestionnaire's page and the colleague autocomplete on a large base.

Seeds 1,000,000 accounts over 100,000 companies (one of them, "GRAND CENTRE", with 5,000 people
holding a CERES habilitation, and 2,000 emails in its history), then times, for that company's
gestionnaire, the autocomplete and the "Personnes habilitées" page through Django's test client
(the whole request: middleware, session, queries, template), and counts their queries.

    .venv/bin/python bench/habilitations.py                       # SQLite (var/bench/)
    .venv/bin/python bench/habilitations.py --db postgres://postgres@127.0.0.1:5432/portail_bench_hab

Seeding uses bulk inserts in large batches and unusable passwords (no hashing); it is skipped
when the database already holds the accounts (--reseed to start over).
Targets: autocomplete p95 < 20 ms, page p95 < 100 ms, queries independent of the company size.
"""

import argparse
import os
import random
import statistics
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ACCOUNTS = 1_000_000
COMPANIES = 100_000
BIG_COMPANY_PEOPLE = 5_000
BIG_COMPANY_EMAILS = 2_000
BATCH = 20_000

FIRST = [
    "Marie",
    "Jean",
    "Pierre",
    "Michel",
    "Anne",
    "Philippe",
    "Nathalie",
    "Isabelle",
    "Sophie",
    "Nicolas",
    "Catherine",
    "Christophe",
    "Sylvie",
    "Frédéric",
    "Julien",
    "Laurent",
    "Céline",
    "Stéphane",
    "Sandrine",
    "Valérie",
    "David",
    "Émilie",
    "Thomas",
    "Camille",
    "Claire",
    "Dominique",
    "Hélène",
    "Olivier",
    "Patrick",
    "Aurélie",
    "Guillaume",
    "Caroline",
    "Vincent",
    "Laure",
    "Mathieu",
]
LAST = [
    "Martin",
    "Bernard",
    "Dubois",
    "Thomas",
    "Robert",
    "Richard",
    "Petit",
    "Durand",
    "Leroy",
    "Moreau",
    "Simon",
    "Laurent",
    "Lefebvre",
    "Michel",
    "Garcia",
    "David",
    "Bertrand",
    "Roux",
    "Vincent",
    "Fournier",
    "Morel",
    "Girard",
    "André",
    "Lefèvre",
    "Mercier",
    "Dupont",
    "Lambert",
    "Bonnet",
    "François",
    "Martinez",
    "Legrand",
    "Garnier",
    "Faure",
    "Rousseau",
    "Blanc",
    "Guerin",
    "Muller",
    "Henry",
    "Roussel",
    "Nicolas",
    "Perrin",
    "Morin",
    "Mathieu",
    "Clement",
    "Gauthier",
    "Dumont",
    "Lopez",
    "Fontaine",
    "Chevalier",
    "Robin",
]
SUFFIXES = ["", "", "", "eau", "in", "on", "et", "ier", "-Lemaire", "-Duval", "ard", "ot"]


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="", help="DATABASE_URL (default: SQLite in var/bench/)")
    parser.add_argument("--reseed", action="store_true")
    parser.add_argument("--requests", type=int, default=200)
    return parser.parse_args()


def configure(db_url: str) -> str:
    if not db_url:
        path = ROOT / "var" / "bench" / "habilitations.sqlite3"
        path.parent.mkdir(parents=True, exist_ok=True)
        db_url = f"sqlite:///{path}"
    elif db_url.startswith("postgres"):
        import psycopg

        name = db_url.rsplit("/", 1)[1]
        admin = db_url.rsplit("/", 1)[0] + "/postgres"
        with psycopg.connect(admin, autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{name}"')
    os.environ["DATABASE_URL"] = db_url
    os.environ["DJANGO_SETTINGS_MODULE"] = "portail.settings.test"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    return db_url


def name(rng):
    return rng.choice(FIRST), rng.choice(LAST) + rng.choice(SUFFIXES)


def seed(reseed: bool):
    from django.db import connection, transaction
    from django.utils import timezone

    from portail.accounts.models import User
    from portail.companies.models import Establishment
    from portail.habilitations.models import Habilitation
    from portail.notifications.models import OutboxEmail
    from tests.factories import make_siren, make_siret
    from tests.habilitations.factories import ceres

    if User.objects.filter(email="gestionnaire@grand-centre.fr").exists() and not reseed:
        print("Base already seeded: skipping (use --reseed).")
        return
    if reseed:
        with transaction.atomic():
            for model in (OutboxEmail, Habilitation, User, Establishment):
                model.objects.all().delete()
    rng = random.Random(42)
    demarche, centre_role, manager_role = ceres()
    now = timezone.now()
    started = time.perf_counter()

    # 100,000 companies; the big one has three establishments.
    establishments = []
    for n in range(COMPANIES):
        siren = make_siren(500_000 + n)
        establishments.append(
            Establishment(
                siren=siren,
                siret=make_siret(siren, 1),
                name="GRAND CENTRE" if n == 0 else f"Entreprise {n}",
                postcode="75001",
                commune="Paris",
                is_head_office=True,
            )
        )
    big_siren = establishments[0].siren
    establishments += [
        Establishment(siren=big_siren, siret=make_siret(big_siren, i), name="GRAND CENTRE")
        for i in (2, 3)
    ]
    Establishment.objects.bulk_create(establishments, batch_size=BATCH)
    big_sites = list(Establishment.objects.filter(siren=big_siren).order_by("siret"))
    first_ids = dict(Establishment.objects.values_list("siren", "id").order_by("-id"))
    print(f"  establishments: {time.perf_counter() - started:.0f} s")

    # 1,000,000 accounts: 5,000 in the big company, the rest spread over the others.
    def users():
        for i in range(ACCOUNTS):
            first, last = name(rng)
            if i < BIG_COMPANY_PEOPLE:
                siren, siret, email = big_siren, big_sites[0].siret, f"p{i}@grand-centre.fr"
            else:
                head = establishments[1 + (i % (COMPANIES - 1))]
                siren, siret, email = head.siren, head.siret, f"u{i}@entreprise{head.siren}.fr"
            if i == 0:
                first, last, email = "Gabrielle", "Gestionnaire", "gestionnaire@grand-centre.fr"
            yield User(
                email=email,
                password="!",  # unusable: no hashing while seeding
                first_name=first,
                last_name=last,
                public_id=uuid.UUID(int=rng.getrandbits(128), version=4),
                account_type="professionnel",
                declared_siren=siren,
                declared_siret=siret,
                email_verified_at=now,
                date_joined=now,
            )

    generator = users()
    while True:
        chunk = [u for _, u in zip(range(BATCH), generator, strict=False)]
        if not chunk:
            break
        with transaction.atomic():
            User.objects.bulk_create(chunk, batch_size=BATCH)
    print(f"  accounts: {time.perf_counter() - started:.0f} s")

    # Habilitations: the big company's 5,000 people, and one gestionnaire per other company.
    big_ids = list(
        User.objects.filter(declared_siren=big_siren).order_by("id").values_list("id", flat=True)
    )
    habilitations = [
        Habilitation(
            user_id=user_id,
            demarche=demarche,
            establishment=big_sites[k % 3],
            role=centre_role,
            origin="invitation",
            granted_by_id=big_ids[0],
        )
        for k, user_id in enumerate(big_ids)
    ]
    habilitations.append(
        Habilitation(
            user_id=big_ids[0],
            demarche=demarche,
            establishment=big_sites[0],
            role=manager_role,
            origin="activation_code",
        )
    )
    with transaction.atomic():
        Habilitation.objects.bulk_create(habilitations, batch_size=BATCH)
    other_first_users = (
        User.objects.exclude(declared_siren=big_siren)
        .order_by("declared_siren", "id")
        .distinct()
        .values_list("declared_siren", "id")
    )
    seen, rows = set(), []
    for siren, user_id in other_first_users.iterator(chunk_size=BATCH):
        if siren in seen:
            continue
        seen.add(siren)
        rows.append(
            Habilitation(
                user_id=user_id,
                demarche=demarche,
                establishment_id=first_ids[siren],
                role=manager_role,
                origin="activation_code",
            )
        )
    with transaction.atomic():
        Habilitation.objects.bulk_create(rows, batch_size=BATCH)
    print(f"  habilitations: {time.perf_counter() - started:.0f} s")

    emails = [
        OutboxEmail(
            recipient=f"p{i}@grand-centre.fr",
            subject="Invitation à rejoindre la démarche CERES",
            body_text="Bonjour,\n\n…",
            category="invitation",
            demarche_id=demarche.pk,
            establishment_id=big_sites[i % 3].pk,
            status="sent",
        )
        for i in range(BIG_COMPANY_EMAILS)
    ]
    with transaction.atomic():
        OutboxEmail.objects.bulk_create(emails, batch_size=BATCH)
    with connection.cursor() as cursor:
        # What autovacuum does to a production table: statistics, and on PostgreSQL the
        # visibility map that lets the covering indexes answer without reading the rows.
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    print(f"Seeded in {time.perf_counter() - started:.0f} s")


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def measure(label, client, urls):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for url in urls[:5]:  # warm up
        client.get(url)
    times, cpu, queries = [], [], set()
    for url in urls:
        with CaptureQueriesContext(connection) as ctx:
            start, start_cpu = time.perf_counter(), time.process_time()
            response = client.get(url)
            times.append((time.perf_counter() - start) * 1000)
            cpu.append((time.process_time() - start_cpu) * 1000)
        assert response.status_code == 200, (url, response.status_code)
        queries.add(len(ctx.captured_queries))
    # Wall time depends on what else runs on the machine; the CPU time of this process (which
    # includes SQLite's work, not PostgreSQL's) much less.
    print(
        f"{label:<38} n={len(times):<4} wall median {statistics.median(times):6.1f} ms "
        f"p95 {percentile(times, 95):6.1f} ms | cpu median {statistics.median(cpu):6.1f} ms "
        f"p95 {percentile(cpu, 95):6.1f} ms | queries {sorted(queries)}"
    )


def run(requests: int):
    from django.test import Client
    from django.urls import reverse

    from portail.accounts.models import User
    from portail.habilitations.models import Habilitation

    gestionnaire = User.objects.get(email="gestionnaire@grand-centre.fr")
    client = Client()
    client.force_login(gestionnaire)
    code = "ceres"
    rng = random.Random(7)
    big = list(
        User.objects.filter(declared_siren=gestionnaire.declared_siren).values_list(
            "first_name", "last_name"
        )[:2000]
    )
    prefixes = []
    for _ in range(requests):
        first, last = rng.choice(big)
        prefixes.append(rng.choice([last[:2], last[:3], last[:5], f"{first} {last[:2]}"]))
    base = reverse("habilitations:autocomplete", args=[code])
    measure("autocomplete (5,000-people company)", client, [f"{base}?q={p}" for p in prefixes])
    page = reverse("habilitations:manage", args=[code])
    pages = [f"{page}?page={rng.randint(1, 250)}" for _ in range(requests // 2)]
    measure("page « Personnes habilitées »", client, [page] * (requests // 2) + pages)
    measure(
        "page, search by name",
        client,
        [f"{page}?q={p}" for p in prefixes[: requests // 2]],
    )
    big_people = Habilitation.objects.filter(
        establishment__siren=gestionnaire.declared_siren, revoked_at__isnull=True
    ).count()
    print(
        f"Accounts: {User.objects.count():,}; habilitations: {Habilitation.objects.count():,}; "
        f"the measured company: {big_people:,} habilitations"
    )


def main():
    args = parse_args()
    db_url = configure(args.db)
    print(f"Database: {db_url.split('@')[-1]}; load average {os.getloadavg()[0]:.1f}")
    seed(args.reseed)
    run(args.requests)
    print(f"load average after: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
