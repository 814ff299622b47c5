"""`manage.py set_demarche_webhook <demarche_code> <url>`: where the portal pushes a démarche's
habilitation changes (portail.oidc.webhooks); its place in the feed is kept."""

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from portail.demarches.models import Demarche
from portail.oidc.clients import ClientRegistrationError, set_webhook


class Command(BaseCommand):
    help = "Sets the webhook URL a démarche is pushed its habilitation changes to."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("demarche_code")
        parser.add_argument("url")

    def handle(self, *args: Any, **options: Any) -> None:
        demarche = Demarche.objects.filter(code=options["demarche_code"]).first()
        if demarche is None:
            raise CommandError(f"Unknown démarche {options['demarche_code']!r}.")
        try:
            set_webhook(actor=None, demarche=demarche, url=options["url"])
        except ClientRegistrationError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"Webhook de {demarche.short_label} : {options['url']}")
