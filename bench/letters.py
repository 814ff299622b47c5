"""Benchmark: the CERES letters of 10,000 centres in one run (codes issued + one PDF).

    .venv/bin/python bench/letters.py [--centres 10000] [--database-url sqlite:////tmp/x.sqlite3]

Builds a throw-away database (SQLite in a temporary directory by default, or DATABASE_URL),
creates the centres, then times `portail.backoffice.flows.generate_letters` — the very function
behind "Générer les courriers": one transaction issuing a code per centre (revoking none), the
Letter rows, the audit events, and the PDF (one A4 page per letter). Then times the PDF drawing
alone. Prints wall time, pages per second, PDF size and the process's peak memory (max RSS).
Target (issue #6): under 20 s and under 500 MB on a 2-core machine.
"""

import argparse
import os
import resource
import sys
import tempfile
import time
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--centres", type=int, default=10_000)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", ""))
    args = parser.parse_args()

    tmp = tempfile.TemporaryDirectory(prefix="bench-letters-")
    os.environ["DATABASE_URL"] = args.database_url or f"sqlite:///{tmp.name}/bench.sqlite3"
    os.environ["PORTAIL_VAR_DIR"] = tmp.name
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portail.settings.dev")
    os.environ.setdefault("LOG_LEVEL", "WARNING")

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import transaction

    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)

    # Models import only once django.setup() has run with the throw-away database's settings.
    from portail.accounts.models import User
    from portail.backoffice import flows
    from portail.backoffice.letters import LetterContent, render_letters
    from portail.backoffice.models import AgentProfile, LetterBatch
    from portail.centres.models import Centre, Region
    from portail.companies.models import Establishment

    def luhn(digits: str) -> str:
        for last in "0123456789":
            total = 0
            for i, ch in enumerate(reversed(digits + last)):
                d = int(ch) * (2 if i % 2 else 1)
                total += d - 9 if d > 9 else d
            if total % 10 == 0:
                return digits + last
        raise AssertionError

    print(f"Préparation : {args.centres} centres…", flush=True)
    agent = User.objects.create_user("bench-agent@dreets.gouv.fr", "bench password 2026")
    AgentProfile.objects.create(user=agent, is_national=True)
    regions = list(Region.objects.all())
    with transaction.atomic():
        establishments = []
        for n in range(args.centres):
            siren = luhn(f"{50_000_000 + n:08d}")
            establishments.append(
                Establishment(
                    siret=luhn(f"{siren}0001"),
                    siren=siren,
                    name=f"CENTRE DE FORMATION {n}",
                    address=f"{n % 200 + 1} RUE DE LA RÉPUBLIQUE",
                    postcode="44000",
                    commune="NANTES",
                )
            )
        Establishment.objects.bulk_create(establishments, batch_size=1000)
        Centre.objects.bulk_create(
            [
                Centre(
                    establishment=e,
                    region=regions[i % len(regions)],
                    letter_name=e.name,
                    letter_address=f"{e.address}\n{e.postcode} {e.commune}",
                )
                for i, e in enumerate(Establishment.objects.order_by("pk"))
            ],
            batch_size=1000,
        )
    centres = list(Centre.objects.only("pk"))
    rss_before = rss_mb()

    start, cpu = time.perf_counter(), time.process_time()
    generated = flows.generate_letters(
        actor=agent, centres=centres, source=LetterBatch.Source.SELECTION, description="bench"
    )
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    pages = generated.batch.letter_count
    print(
        f"generate_letters (codes + lettres + journal + PDF) : {pages} courriers en {elapsed:.1f} s "
        f"({pages / elapsed:.0f} par seconde ; temps CPU du processus {cpu:.1f} s), "
        f"PDF de {len(generated.pdf) / 1e6:.1f} Mo"
    )
    rss_after_flow = rss_mb()

    contents = [
        LetterContent(
            f"CENTRE {n}", f"{n} RUE DE LA PAIX\n44000 NANTES", "90310000600019", "K7QM-3XRT-W9PD"
        )
        for n in range(pages)
    ]
    start, cpu = time.perf_counter(), time.process_time()
    out = BytesIO()
    render_letters(contents, out)
    pdf_elapsed, pdf_cpu = time.perf_counter() - start, time.process_time() - cpu
    print(
        f"PDF seul (reportlab, un canevas) : {pages} pages en {pdf_elapsed:.1f} s "
        f"({pages / pdf_elapsed:.0f} pages par seconde ; temps CPU {pdf_cpu:.1f} s)"
    )
    print(f"Charge de la machine (1 min) : {os.getloadavg()[0]:.1f} pour {os.cpu_count()} cœurs")
    print(
        f"Mémoire (pic du processus, max RSS) : {rss_after_flow:.0f} Mo après generate_letters "
        f"({rss_before:.0f} Mo avant), {rss_mb():.0f} Mo en fin de run"
    )
    print(f"Base : {os.environ['DATABASE_URL'].split('@')[-1]}")
    ok = elapsed < 20 and rss_mb() < 500
    print("Objectif (< 20 s, < 500 Mo) : " + ("atteint" if ok else "NON atteint"))
    tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
