"""`manage.py register_demarche_client <demarche_code> <redirect_uri>... [--post-logout-uri URI]
[--webhook-url URL] [--backchannel-logout-uri URI]`

Creates the démarche's confidential OpenID Connect client and prints its credentials once: the
portal keeps only a keyed hash of the secret.
"""

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from portail.demarches.models import Demarche
from portail.oidc.clients import ClientRegistrationError, register_demarche_client


class Command(BaseCommand):
    help = "Registers a démarche as an OpenID Connect client and prints its credentials once."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("demarche_code", help="code of the démarche, e.g. ceres")
        parser.add_argument("redirect_uris", nargs="+", help="exact redirect URIs (callback)")
        parser.add_argument(
            "--post-logout-uri",
            action="append",
            default=[],
            dest="post_logout_uris",
            help="where the démarche may send people after logout (repeatable)",
        )
        parser.add_argument(
            "--webhook-url",
            default="",
            help="where the portal pushes the démarche's habilitation changes (signed events)",
        )
        parser.add_argument(
            "--backchannel-logout-uri",
            default="",
            help="where the portal POSTs logout tokens (OpenID Connect Back-Channel Logout)",
        )
        parser.add_argument(
            "--replace",
            action="store_true",
            help="retire the démarche's current client and issue new credentials",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        demarche = Demarche.objects.filter(code=options["demarche_code"]).first()
        if demarche is None:
            raise CommandError(f"Unknown démarche {options['demarche_code']!r}.")
        try:
            client = register_demarche_client(
                actor=None,
                demarche=demarche,
                redirect_uris=options["redirect_uris"],
                post_logout_redirect_uris=options["post_logout_uris"],
                replace=options["replace"],
                webhook_url=options["webhook_url"],
                backchannel_logout_uri=options["backchannel_logout_uri"],
            )
        except ClientRegistrationError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"Client OpenID Connect de {demarche.short_label} créé.")
        self.stdout.write(f"client_id={client.client_id}")
        self.stdout.write(f"client_secret={client.client_secret}")
        if options["webhook_url"]:
            self.stdout.write(f"webhook_url={options['webhook_url']}")
        self.stdout.write(
            "Conservez ce secret maintenant : le portail n'en garde qu'une empreinte, "
            "il ne pourra plus être affiché."
        )
