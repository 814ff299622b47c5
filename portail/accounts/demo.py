"""Demo accounts: a gestionnaire-to-be of CFI ATLANTIQUE (the manual's Guy Duponttest), one of
his colleagues, and a particulier, all activated. Idempotent. Their emails are importable
(DEMO_ACCOUNTS) by the other apps' demos that give them roles."""

from django.utils import timezone

from portail.accounts.models import User
from portail.companies import registry
from portail.companies.models import Establishment

DEMO_PASSWORD = "Demo mot de passe 2026"  # noqa: S105 - printed at demo start, demo only

DEMO_ACCOUNTS = [
    {
        "email": "guy.duponttest@cfi-atlantique.demo.fr",
        "civilite": User.Civilite.MONSIEUR,
        "first_name": "Guy",
        "last_name": "Duponttest",
        "phone": "+33240000001",
        "account_type": User.AccountType.PROFESSIONNEL,
        "siret": "90310000600019",
    },
    {
        "email": "claire.martin@cfi-atlantique.demo.fr",
        "civilite": User.Civilite.MADAME,
        "first_name": "Claire",
        "last_name": "Martin",
        "phone": "+33240000002",
        "account_type": User.AccountType.PROFESSIONNEL,
        "siret": "90310000600027",
    },
    {
        "email": "paul.particulier@exemple.demo.fr",
        "civilite": User.Civilite.MONSIEUR,
        "first_name": "Paul",
        "last_name": "Lefebvre",
        "phone": "+33612345678",
        "account_type": User.AccountType.PARTICULIER,
        "siret": "",
    },
]


def _establishment(siret: str) -> Establishment | None:
    if not siret:
        return None
    try:
        return registry.establishment_from_registry(siret)
    except registry.RegistryError:
        return None


def load(stdout: object = None) -> list[str]:
    lines = ["Comptes du portail (mot de passe « " + DEMO_PASSWORD + " ») :"]
    for account in DEMO_ACCOUNTS:
        spec = dict(account)
        siret = spec.pop("siret")
        user = User.objects.filter(email=spec["email"]).first()
        if user is None:
            user = User.objects.create_user(
                spec.pop("email"), DEMO_PASSWORD, email_verified_at=timezone.now(), **spec
            )
            establishment = _establishment(siret)
            if establishment is not None:
                user.establishment = establishment
                user.declared_siret = establishment.siret
                user.declared_siren = establishment.siren
                user.declared_company_name = establishment.name
                user.declared_address = establishment.address
                user.declared_commune = establishment.commune_line
                user.establishment_verified = establishment.verified
                user.save()
        label = user.get_account_type_display()
        company = f", {user.declared_company_name}" if user.declared_company_name else ""
        lines.append(f"  {user.email} ({label}{company})")
    return lines
