"""Imports INSEE's Sirene stock files into the local registry (`COMPANIES_REGISTRY=sirene_local`).

    manage.py import_sirene --unites-legales StockUniteLegale_utf8.zip \
                            --etablissements StockEtablissement_utf8.zip

Files: .csv, .csv.gz or INSEE's .zip. Re-running updates the rows (upsert); see docs/companies.md.
"""

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from portail.companies import sirene_import


class Command(BaseCommand):
    help = "Importe les fichiers stock Sirene de l'INSEE (StockUniteLegale, StockEtablissement)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--unites-legales", metavar="FICHIER", help="StockUniteLegale (csv, gz, zip)"
        )
        parser.add_argument(
            "--etablissements", metavar="FICHIER", help="StockEtablissement (csv, gz, zip)"
        )
        parser.add_argument("--batch-size", type=int, default=sirene_import.DEFAULT_BATCH_SIZE)
        parser.add_argument(
            "--active-only",
            action="store_true",
            help="ignore closed establishments (they are then reported as unknown, not closed)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not options["unites_legales"] and not options["etablissements"]:
            raise CommandError("Give --unites-legales and/or --etablissements.")
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1.")
        verbosity = options["verbosity"]

        def progress(result: sirene_import.ImportResult) -> None:
            if verbosity > 1 and result.batches % 50 == 0:
                self.stdout.write(f"  {result.rows:,} lignes…")

        try:
            if options["unites_legales"]:
                result = sirene_import.import_unites_legales(
                    options["unites_legales"], batch_size=options["batch_size"], progress=progress
                )
                self._report("unités légales", result)
            if options["etablissements"]:
                result = sirene_import.import_etablissements(
                    options["etablissements"],
                    batch_size=options["batch_size"],
                    active_only=options["active_only"],
                    progress=progress,
                )
                self._report("établissements", result)
        except (OSError, sirene_import.SireneFileError) as exc:
            raise CommandError(str(exc)) from exc

    def _report(self, what: str, result: sirene_import.ImportResult) -> None:
        self.stdout.write(
            f"{result.rows:,} {what} importé(e)s en {result.seconds:.1f} s "
            f"({result.rows_per_second:,.0f} lignes/s, {result.batches} lots)."
        )
