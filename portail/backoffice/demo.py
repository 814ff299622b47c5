"""Demo data: a national agent with a known password and TOTP secret, and a few centres.

FOR THE DEMO ONLY: the TOTP secret below is public. `manage.py agent_totp_code` prints the
current code of this agent (it refuses any other account and any production environment).
"""

import base64
from binascii import unhexlify
from typing import Any

from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from portail.accounts.models import User
from portail.backoffice.flows import create_centre
from portail.backoffice.models import AgentProfile
from portail.centres.models import Centre, LinkedSite, Region
from portail.companies.registry import RegistryError, establishment_from_registry

DEMO_AGENT_EMAIL = "agent.national@dreets.demo.gouv.fr"
DEMO_AGENT_PASSWORD = "Agent national démo 2026"  # noqa: S105 (public demo account)
DEMO_TOTP_KEY_HEX = "3132333435363738393031323334353637383930"  # RFC 6238's test key
DEMO_CENTRES = [
    # (SIRET of the registry sample, region code, agrément reference)
    ("90310000600019", "52", "AGR-52-2018-001"),  # CFI ATLANTIQUE, Nantes
    ("90311781000015", "11", "AGR-11-2018-042"),  # GROUPE HORIZON COMPETENCES, Paris
    ("90310137600015", "28", "AGR-28-2018-007"),  # FORMAPRO NORMANDIE, Caen
]
CFI_ATLANTIQUE_SITES = ["90310000600027", "90310000600035", "90310000600043"]


def _agent(stdout: Any) -> User:
    user = User.objects.filter(email=DEMO_AGENT_EMAIL).first()
    if user is None:
        user = User.objects.create_user(
            DEMO_AGENT_EMAIL,
            DEMO_AGENT_PASSWORD,
            first_name="Agnès",
            last_name="Démo",
            account_type=User.AccountType.PARTENAIRE,
            email_verified_at=timezone.now(),
        )
    profile, _ = AgentProfile.objects.get_or_create(user=user)
    if not profile.is_national:
        profile.is_national = True
        profile.save(update_fields=["is_national"])
    TOTPDevice.objects.get_or_create(
        user=user,
        confirmed=True,
        defaults={"name": "Démo", "key": DEMO_TOTP_KEY_HEX},
    )
    return user


def _centres(agent: User) -> int:
    created = 0
    for siret, region_code, reference in DEMO_CENTRES:
        if Centre.objects.filter(establishment__siret=siret).exists():
            continue
        try:
            establishment = establishment_from_registry(siret)
        except RegistryError:
            continue  # the registry sample is not loaded: no centre then
        create_centre(
            actor=agent,
            establishment=establishment,
            data={
                "region": Region.objects.get(code=region_code),
                "agrement_reference": reference,
                "agrement_date": timezone.localdate().replace(month=1, day=15),
                "contact_email": "",
            },
        )
        created += 1
    centre = Centre.objects.filter(establishment__siret=DEMO_CENTRES[0][0]).first()
    if centre is not None and not centre.sites.exists():
        for siret in CFI_ATLANTIQUE_SITES:
            try:
                site = establishment_from_registry(siret)
            except RegistryError:
                continue
            LinkedSite.objects.get_or_create(
                centre=centre,
                establishment=site,
                defaults={"label": f"{site.name} — {site.commune}"},
            )
    return created


def load(stdout: Any = None) -> list[str]:
    agent = _agent(stdout)
    _centres(agent)
    secret = base64.b32encode(unhexlify(DEMO_TOTP_KEY_HEX)).decode()
    device = TOTPDevice.objects.get(user=agent, confirmed=True)
    return [
        (
            "Agent du ministère (national, DÉMO) : "
            f"{DEMO_AGENT_EMAIL} / {DEMO_AGENT_PASSWORD} — lien « Agent du ministère ? »"
        ),
        f"  Clé TOTP de démonstration : {secret}  (URI : {device.config_url})",
        "  Code TOTP courant : .venv/bin/python manage.py agent_totp_code",
        f"  Centres agréés de démonstration : {Centre.objects.count()}.",
    ]
