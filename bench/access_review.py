"""The periodic access review's job (portail.habilitations.access_review.run_access_reviews) on
100,000 habilitations: its time and statements, night after night of a review's life.

    .venv/bin/python bench/access_review.py                      # SQLite (a temporary file)
    .venv/bin/python bench/access_review.py --database-url postgres://postgres@127.0.0.1:5432/portail_bench_review

Seeds `--habilitations` CERES habilitations (default 100,000) over companies of `--per-company`
people (one gestionnaire, the others "Centre agréé"), all granted 13 months ago, then runs the
job as the nights come:
1. the night the reviews open (one per company: its lines, its journal event, the email);
2. a night with nothing due (what the worker's every-10-minutes run costs);
3. the night of the 7-day reminder;
4. the night after the deadline, `--confirmed` of the companies (default 50 %) having confirmed
   in time: the other companies' accesses are suspended (an email and a feed event each);
5. the night 30 days after: those accesses end.
Prints each night's wall time, statements and what the job did.

Runs on a throw-away database (a temporary SQLite file, or the PostgreSQL database named by
--database-url, created and dropped here), never the demo's or production's.
"""

import argparse
import os
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.token_endpoint import drop_database, setup_django  # noqa: E402

BATCH = 5_000


def seed(habilitations: int, per_company: int) -> None:
    from django.utils import timezone

    from portail.accounts.models import User
    from portail.companies.models import Establishment
    from portail.demarches.models import Demarche
    from portail.habilitations.models import Habilitation
    from tests.factories import make_siren, make_siret

    demarche = Demarche.objects.get(code="ceres")
    demarche.access_review_months = 12
    demarche.save(update_fields=["access_review_months"])
    centre_role = demarche.roles.get(code="centre-agree")
    manager_role = demarche.roles.get(can_manage=True)
    companies = habilitations // per_company
    started = time.perf_counter()
    Establishment.objects.bulk_create(
        [
            Establishment(
                siren=make_siren(600_000 + n),
                siret=make_siret(make_siren(600_000 + n), 1),
                name=f"Centre {n}",
                postcode="44000",
                commune="Nantes",
                is_head_office=True,
            )
            for n in range(companies)
        ],
        batch_size=BATCH,
    )
    establishment_ids = list(Establishment.objects.order_by("pk").values_list("pk", flat=True))
    now = timezone.now()
    User.objects.bulk_create(
        (
            User(
                email=f"p{i}@centre{i // per_company}.fr",
                password="!",  # unusable: no hashing while seeding
                first_name="Prénom",
                last_name=f"Nom{i}",
                public_id=uuid.uuid4(),
                account_type="professionnel",
                email_verified_at=now,
                date_joined=now,
            )
            for i in range(companies * per_company)
        ),
        batch_size=BATCH,
    )
    user_ids = list(User.objects.order_by("pk").values_list("pk", flat=True))
    granted = now - timedelta(days=400)
    Habilitation.objects.bulk_create(
        (
            Habilitation(
                user_id=user_ids[i],
                demarche=demarche,
                establishment_id=establishment_ids[i // per_company],
                role=manager_role if i % per_company == 0 else centre_role,
                origin=Habilitation.Origin.ACTIVATION_CODE,
                granted_at=granted,
            )
            for i in range(companies * per_company)
        ),
        batch_size=BATCH,
    )
    print(
        f"seeded {Habilitation.objects.count():,} habilitations, {companies:,} companies "
        f"in {time.perf_counter() - started:.0f} s"
    )


def night(label: str, now) -> None:
    from django.db import connection

    from portail.habilitations.access_review import run_access_reviews

    statements = [0]

    def count(execute, sql, params, many, context):
        statements[0] += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        started = time.perf_counter()
        done = run_access_reviews(now=now)
        elapsed = time.perf_counter() - started
    print(
        f"{label:<32} {elapsed:8.2f} s {statements[0]:>9,} statements  "
        + ", ".join(f"{k} {v:,}" for k, v in done.items())
    )


def confirm_some(share: float, now) -> None:
    """`share` of the companies confirmed in time: written straight into the tables (the flow's
    cost is the gestionnaire's request, not the job's, and is timed apart on a sample)."""
    from django.contrib.auth import get_user_model

    from portail.habilitations.access_review import confirm_all
    from portail.habilitations.models import AccessReview, AccessReviewItem, Habilitation

    open_reviews = list(AccessReview.objects.open().order_by("pk").values_list("pk", flat=True))
    chosen = open_reviews[: int(len(open_reviews) * share)]
    sample = AccessReview.objects.filter(pk__in=chosen[:50])
    managers = dict(
        Habilitation.objects.filter(
            role__can_manage=True, establishment__siren__in=sample.values("siren")
        ).values_list("establishment__siren", "user_id")
    )
    users = get_user_model().objects.in_bulk(list(managers.values()))
    started = time.perf_counter()
    for review in sample:
        confirm_all(actor=users[managers[review.siren]], review=review)
    per_review = (time.perf_counter() - started) / max(sample.count(), 1)
    for start in range(0, len(chosen), 900):
        batch = chosen[start : start + 900]
        AccessReviewItem.objects.filter(review_id__in=batch, decision="pending").update(
            decision="confirmed", decided_at=now
        )
        AccessReview.objects.filter(pk__in=batch, closed_at__isnull=True).update(
            completed_at=now, closed_at=now
        )
    print(
        f'{len(chosen):,} companies confirmed in time ("Je confirme ces accès": '
        f"{per_review * 1000:.0f} ms each, measured on 50)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", help="PostgreSQL (created and dropped); else SQLite")
    parser.add_argument("--habilitations", type=int, default=100_000)
    parser.add_argument("--per-company", type=int, default=10)
    parser.add_argument("--confirmed", type=float, default=0.5)
    args = parser.parse_args()
    if args.database_url:
        os.environ["DATABASE_URL"] = args.database_url
    with tempfile.TemporaryDirectory() as tmp:
        pg_url = setup_django(tmp)
        try:
            from django.conf import settings
            from django.utils import timezone

            settings.EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"
            print(
                f"database: {os.environ['DATABASE_URL'].split('://')[0]}, cores: {os.cpu_count()}"
            )
            seed(args.habilitations, args.per_company)
            now = timezone.now()
            days = settings.ACCESS_REVIEW_RESPONSE_DAYS
            night("1. reviews open", now)
            night("2. nothing due", now + timedelta(days=1))
            night("3. reminder 7 days before", now + timedelta(days=days - 7))
            confirm_some(args.confirmed, now + timedelta(days=days - 3))
            night("4. deadline passed: suspend", now + timedelta(days=days, hours=1))
            night("   (next run, nothing due)", now + timedelta(days=days, hours=2))
            night("5. grace over: end", now + timedelta(days=days + 31))
        finally:
            if pg_url:
                drop_database(pg_url)
    print(f"machine load average (1 min) at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
