"""Print the current TOTP code of an agent — for the DEMO agent only, never in production."""

from argparse import ArgumentParser
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from portail.backoffice.demo import DEMO_AGENT_EMAIL


class Command(BaseCommand):
    help = "Affiche le code TOTP courant de l’agent de démonstration (démo uniquement)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("email", nargs="?", default=DEMO_AGENT_EMAIL)

    def handle(self, *args: Any, email: str, **options: Any) -> None:
        if settings.ENVIRONMENT not in ("dev", "test"):
            raise CommandError("Réservé à la démonstration (environnement dev).")
        if email.strip().lower() != DEMO_AGENT_EMAIL:
            raise CommandError(f"Seul l’agent de démonstration ({DEMO_AGENT_EMAIL}) est concerné.")
        device = TOTPDevice.objects.filter(user__email=DEMO_AGENT_EMAIL, confirmed=True).first()
        if device is None:
            raise CommandError(
                "L’agent de démonstration n’existe pas : make demo / load_demo_data."
            )
        totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
        self.stdout.write(f"{totp.token():0{device.digits}d}")
