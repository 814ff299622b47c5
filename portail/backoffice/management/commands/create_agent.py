"""Create (or update) a ministry agent: `create_agent <email> --region 11 --region 52 [--national]`.

The only way to make an agent besides the Django admin: no form of the portal can. Without
`--password`, a one-time password is generated and printed once; the agent enrols a TOTP
application at first login. `--reset-totp` removes the agent's TOTP devices (lost phone).
"""

import secrets
from argparse import ArgumentParser
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from portail.accounts.models import User
from portail.accounts.validators import validate_person_name
from portail.audit.journal import record
from portail.backoffice.models import AgentProfile
from portail.centres.models import Region


class Command(BaseCommand):
    help = "Crée ou met à jour un agent du ministère (régions DREETS, agent national)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("email")
        parser.add_argument(
            "--region", action="append", default=[], help="Code INSEE de région (répétable)."
        )
        parser.add_argument("--national", action="store_true", help="Voit toutes les régions.")
        parser.add_argument("--password", help="Mot de passe à poser (sinon : généré et affiché).")
        parser.add_argument("--first-name", default="")
        parser.add_argument("--last-name", default="")
        parser.add_argument(
            "--reset-totp", action="store_true", help="Oublie l’application d’authentification."
        )

    def handle(
        self,
        *args: Any,
        email: str,
        region: list[str],
        national: bool,
        password: str | None,
        first_name: str,
        last_name: str,
        reset_totp: bool,
        **options: Any,
    ) -> None:
        regions = list(Region.objects.filter(code__in=[code.zfill(2) for code in region]))
        unknown = sorted({code.zfill(2) for code in region} - {r.code for r in regions})
        if unknown:
            raise CommandError(f"Région(s) inconnue(s) : {', '.join(unknown)}")
        if not regions and not national:
            raise CommandError("Indiquez au moins une --region, ou --national.")
        for name in (first_name, last_name):
            try:
                validate_person_name(name.strip())
            except ValidationError as error:
                raise CommandError(f"{name!r} : {error.messages[0]}") from error
        generated = password is None
        password = password or secrets.token_urlsafe(12)
        with transaction.atomic():
            user = User.objects.filter(email__iexact=email.strip()).first()
            created = user is None
            if user is None:
                user = User.objects.create_user(
                    email,
                    password,
                    first_name=first_name,
                    last_name=last_name,
                    account_type=User.AccountType.PARTENAIRE,
                    email_verified_at=timezone.now(),
                )
            elif not generated:
                user.set_password(password)
                user.save(update_fields=["password"])
            profile, _ = AgentProfile.objects.get_or_create(user=user)
            profile.is_national = national
            profile.save(update_fields=["is_national"])
            profile.regions.set(regions)
            if reset_totp:
                TOTPDevice.objects.filter(user=user).delete()
            record(
                "backoffice.agent.created" if created else "backoffice.agent.updated",
                target=user,
                data={
                    "regions": [r.code for r in regions],
                    "national": national,
                    "totp_reset": reset_totp,
                },
            )
        self.stdout.write(f"Agent {'créé' if created else 'mis à jour'} : {user.email}")
        self.stdout.write(
            "Régions : " + ("toutes (national)" if national else ", ".join(r.name for r in regions))
        )
        if generated and created:
            self.stdout.write(f"Mot de passe à usage unique (affiché une seule fois) : {password}")
        self.stdout.write(
            "À la première connexion (« Agent du ministère ? »), l’agent enregistre son application "
            "d’authentification (code QR)."
        )
