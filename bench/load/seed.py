"""The data the load test needs, in the production-shaped run's database (scripts/prodlike.py).

    python -m bench.load.seed --ceres-only          # CERES registered (prodlike.py start runs it)
    python -m bench.load.seed --people 200 --invitees 3000

People `charge-<n>@exemple.fr`: professionals, gestionnaires of CERES for their own centre
(they see "Mes démarches" with CERES and the management page, and invite). Invitees
`invite-<n>@exemple.fr`: accounts with no démarche, each invited and accepting once. Every
account has the password `PASSWORD`. Idempotent: what exists is kept.
"""

import argparse
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "Charge de test 2026 !"


def person_email(n: int) -> str:
    return f"charge-{n}@exemple.fr"


def invitee_email(n: int) -> str:
    return f"invite-{n}@exemple.fr"


def register_ceres() -> None:
    from oauth2_provider.models import Application

    from portail.demarches.catalogue import CERES
    from portail.demarches.models import Demarche
    from portail.oidc.clients import register_demarche_client
    from scripts import prodlike

    # The load's gestionnaires sign in with a password only: CERES' second-factor rule
    # (requires_mfa, decision 0015) is lifted on this throw-away database, or every management
    # page would lead to the enrolment. Logins with a second factor: bench/login.py.
    Demarche.objects.filter(code=CERES).update(requires_mfa=False)
    if Application.objects.filter(client_id=prodlike.CERES_CLIENT_ID).exists():
        # Registering again replaces the client row: the other workers' client cache would
        # point at the old row for OIDC_CLIENT_CACHE_SECONDS (500s at /o/authorize/ meanwhile).
        return
    demarche = Demarche.objects.get(code=CERES)
    register_demarche_client(
        actor=None,
        demarche=demarche,
        redirect_uris=[f"{prodlike.CERES_URL}/oidc/callback/"],
        post_logout_redirect_uris=[f"{prodlike.CERES_URL}/deconnexion/terminee/"],
        client_id=prodlike.CERES_CLIENT_ID,
        client_secret=json.loads((prodlike.VAR / "secrets.json").read_text())[
            "CERES_CLIENT_SECRET"
        ],
        replace=True,
    )
    Demarche.objects.filter(pk=demarche.pk).update(url=f"{prodlike.CERES_URL}/")


def seed_people(people: int, invitees: int) -> None:
    from django.contrib.auth.hashers import make_password
    from django.db import transaction
    from django.utils import timezone

    from portail.accounts.models import User
    from portail.companies.models import Establishment
    from portail.demarches.catalogue import CERES
    from portail.demarches.models import Role
    from portail.habilitations.models import Habilitation
    from tests.factories import make_siren, make_siret

    hashed = make_password(PASSWORD)  # one hash for all: seeding 3,000 accounts takes seconds
    now = timezone.now()
    roles = list(Role.objects.filter(demarche__code=CERES, code__in=["gestionnaire-centres"]))
    common = {
        "password": hashed,
        "civilite": User.Civilite.MADAME,
        "phone": "+33612345678",
        "email_verified_at": now,
    }
    with transaction.atomic():
        existing = set(User.objects.values_list("email", flat=True))
        new_people = []
        for n in range(people):
            if person_email(n) in existing:
                continue
            siren = make_siren(8_000_000 + n)
            site = Establishment.objects.create(
                siren=siren,
                siret=make_siret(siren, 1),
                name=f"Centre de charge {n}",
                address=f"{n} rue du Test",
                postcode="44000",
                commune="Nantes",
                is_head_office=True,
                is_active=True,
                source=Establishment.Source.SIRENE_LOCAL,
                verified=True,
                refreshed_at=now,
            )
            user = User(
                email=person_email(n),
                first_name="Camille",
                last_name=f"Charge{chr(65 + n % 26)}",
                account_type=User.AccountType.PROFESSIONNEL,
                establishment=site,
                declared_siret=site.siret,
                declared_siren=site.siren,
                declared_company_name=site.name,
                establishment_verified=True,
                **common,
            )
            new_people.append(user)
        User.objects.bulk_create(new_people)
        for user in User.objects.filter(email__in=[u.email for u in new_people]):
            for role in roles:
                Habilitation.objects.create(
                    user=user,
                    demarche=role.demarche,
                    role=role,
                    establishment=user.establishment,
                    origin=Habilitation.Origin.AGENT,
                )
        User.objects.bulk_create(
            [
                User(
                    email=invitee_email(n),
                    first_name="Dominique",
                    last_name="Invite",
                    account_type=User.AccountType.PROFESSIONNEL,
                    **common,
                )
                for n in range(invitees)
                if invitee_email(n) not in existing
            ]
        )
    print(f"Seeded: {people} people (gestionnaires of CERES), {invitees} invitees.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ceres-only", action="store_true")
    parser.add_argument("--people", type=int, default=200)
    parser.add_argument("--invitees", type=int, default=3000)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portail.settings.prod")
    import django

    django.setup()
    register_ceres()
    if not args.ceres_only:
        seed_people(args.people, args.invitees)


if __name__ == "__main__":
    main()
