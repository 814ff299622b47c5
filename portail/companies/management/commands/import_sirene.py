"""Imports INSEE's Sirene files into the local registry (`COMPANIES_REGISTRY=sirene_local`).

    manage.py import_sirene --unites-legales StockUniteLegale_utf8.zip \
                            --etablissements StockEtablissement_utf8.zip
    manage.py import_sirene --mises-a-jour MisesAJourEtablissement_2024-06-03.csv

Files: .csv, .csv.gz or INSEE's .zip. Re-running updates the rows (upsert). A bad line is reported
by its number and skipped; the command then ends in error, after importing the others. The
establishments of the portal found closed are then handled by the back-office's chore (run here
at once, and by the housekeeping if this process stops first). See docs/companies.md.
"""

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from portail.companies import sirene_import
from portail.core import housekeeping


class Command(BaseCommand):
    help = (
        "Importe les fichiers Sirene de l’INSEE : stocks (StockUniteLegale, StockEtablissement) "
        "et mises à jour quotidiennes des établissements."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--unites-legales", metavar="FICHIER", help="StockUniteLegale (csv, gz, zip)"
        )
        parser.add_argument(
            "--etablissements", metavar="FICHIER", help="StockEtablissement (csv, gz, zip)"
        )
        parser.add_argument(
            "--mises-a-jour",
            metavar="FICHIER",
            action="append",
            default=[],
            help="a file of changes of establishments, in StockEtablissement's format (repeatable)",
        )
        parser.add_argument("--batch-size", type=int, default=sirene_import.DEFAULT_BATCH_SIZE)
        parser.add_argument(
            "--method",
            choices=["auto", "copy", "batched"],
            default="auto",
            help="copy: PostgreSQL's COPY and one merge (auto on PostgreSQL); batched: upserts",
        )
        parser.add_argument(
            "--active-only",
            action="store_true",
            help="ignore closed establishments (they are then reported as unknown, not closed)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not (options["unites_legales"] or options["etablissements"] or options["mises_a_jour"]):
            raise CommandError("Give --unites-legales, --etablissements and/or --mises-a-jour.")
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1.")
        if options["method"] == "copy" and connection.vendor != "postgresql":
            raise CommandError("--method copy needs PostgreSQL (COPY … FROM STDIN).")
        verbosity = options["verbosity"]
        common = {"batch_size": options["batch_size"], "method": options["method"]}

        def progress(result: sirene_import.ImportResult) -> None:
            if verbosity > 1 and result.batches % 50 == 0:
                self.stdout.write(f"  {result.rows:,} lignes…")

        refused = 0
        try:
            if options["unites_legales"]:
                result = sirene_import.import_unites_legales(
                    options["unites_legales"], progress=progress, **common
                )
                refused += self._report("unités légales", options["unites_legales"], result)
            files = [options["etablissements"]] if options["etablissements"] else []
            for path in [*files, *options["mises_a_jour"]]:
                result = sirene_import.import_etablissements(
                    path, active_only=options["active_only"], progress=progress, **common
                )
                refused += self._report("établissements", path, result)
        except (OSError, sirene_import.SireneFileError) as exc:
            raise CommandError(str(exc)) from exc
        if options["etablissements"] or options["mises_a_jour"]:
            handled = housekeeping.run(only=[sirene_import.CLOSURES_CHORE])
            if handled.get(sirene_import.CLOSURES_CHORE):
                self.stdout.write(
                    f"{handled[sirene_import.CLOSURES_CHORE]} fermeture(s) d’établissement "
                    "traitée(s) (habilitations suspendues, personnes prévenues)."
                )
        if refused:
            raise CommandError(
                f"{refused} ligne(s) refusée(s) (voir ci-dessus) ; les autres lignes sont importées."
            )

    def _report(self, what: str, path: str, result: sirene_import.ImportResult) -> int:
        self.stdout.write(
            f"{path} : {result.rows:,} {what} lus, {result.written:,} créés ou modifiés en "
            f"{result.seconds:.1f} s ({result.rows_per_second:,.0f} lignes/s, "
            f"{'COPY' if result.method == 'copy' else 'par lots'})."
        )
        if result.unknown_columns:
            self.stdout.write(
                f"{path} : colonnes inconnues, ignorées : {', '.join(result.unknown_columns)}."
            )
        if result.closures:
            self.stdout.write(
                f"{path} : {result.closures} établissement(s) du portail fermé(s) au répertoire."
            )
        for line in result.refused_lines:
            self.stderr.write(f"{path}, {line}")
        if result.refused > len(result.refused_lines):
            self.stderr.write(
                f"{path} : … et {result.refused - len(result.refused_lines)} autre(s) ligne(s) "
                "refusée(s)."
            )
        return result.refused
