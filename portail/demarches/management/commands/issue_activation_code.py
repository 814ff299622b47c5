"""`manage.py issue_activation_code <demarche_code> <siret>`: issue a code and print it once.

For operators until (and besides) the agents' back-office. The clear code goes to standard output
only; the database keeps its keyed hash. A previous unused code for the same pair is revoked.
"""

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from portail.demarches.codes import CodeRefused, issue_activation_code
from portail.demarches.models import Demarche


class Command(BaseCommand):
    help = "Émet un code d'activation pour (démarche, SIRET) et l'affiche une seule fois."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("demarche_code", help="code de la démarche, par exemple « ceres »")
        parser.add_argument("siret", help="SIRET de l'établissement (14 chiffres)")

    def handle(self, *args: Any, demarche_code: str, siret: str, **options: Any) -> None:
        try:
            demarche = Demarche.objects.get(code=demarche_code)
        except Demarche.DoesNotExist as exc:
            raise CommandError(f"Démarche inconnue : {demarche_code}") from exc
        try:
            row, code = issue_activation_code(actor=None, demarche=demarche, siret=siret)
        except CodeRefused as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(
            f"Code d'activation {demarche.short_label} pour le SIRET {row.siret} "
            f"(valable jusqu'au {timezone.localtime(row.expires_at):%d/%m/%Y}) :"
        )
        self.stdout.write(code)
