"""factory_boy factories for the models every app uses. Apps add their own beside their tests."""

import factory
from django.utils import timezone

from portail.accounts.models import User
from portail.companies.models import Establishment
from portail.demarches.models import Demarche, Role
from portail.habilitations.models import Habilitation


def luhn_complete(digits: str) -> str:
    """Append the digit that makes `digits` pass the Luhn check (SIREN and SIRET use it)."""
    for last in "0123456789":
        candidate = digits + last
        total = 0
        for i, ch in enumerate(reversed(candidate)):
            d = int(ch) * (2 if i % 2 else 1)
            total += d - 9 if d > 9 else d
        if total % 10 == 0:
            return candidate
    raise AssertionError("unreachable")


def make_siren(n: int) -> str:
    return luhn_complete(f"{(n % 10**8) + 10**7:08d}")


def make_siret(siren: str, n: int = 1) -> str:
    return luhn_complete(f"{siren}{n:04d}")


class EstablishmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Establishment
        django_get_or_create = ("siret",)

    siren = factory.Sequence(lambda n: make_siren(n + 21000))
    siret = factory.LazyAttribute(lambda o: make_siret(o.siren, 1))
    name = factory.Sequence(lambda n: f"Centre de formation {n}")
    address = factory.Sequence(lambda n: f"{n} rue de la République")
    postcode = "44000"
    commune = "Nantes"
    is_head_office = True
    is_active = True
    source = Establishment.Source.SIRENE_LOCAL
    verified = True
    refreshed_at = factory.LazyFunction(timezone.now)

    class Params:
        closed = factory.Trait(is_active=False)


def letters_of(n: int) -> str:
    """0 → A, 25 → Z, 26 → AA: a sequence number written in letters."""
    text = ""
    n += 1
    while n:
        n, rest = divmod(n - 1, 26)
        text = chr(ord("A") + rest) + text
    return text


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("email",)
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"personne{n}@exemple.fr")
    civilite = User.Civilite.MADAME
    # Letters, not digits: a person's name holds no digit (accounts.validators).
    first_name = factory.Sequence(lambda n: f"Prénom{letters_of(n)}")
    last_name = factory.Sequence(lambda n: f"Nom{letters_of(n)}")
    phone = "+33612345678"
    account_type = User.AccountType.PROFESSIONNEL
    email_verified_at = factory.LazyFunction(timezone.now)
    password = factory.PostGenerationMethodCall(
        "set_password", "Un mot de passe solide 2026"
    )  # PASSWORD

    @factory.post_generation
    def _save(self, create, extracted, **kwargs):
        if create:
            self.save()

    class Params:
        particulier = factory.Trait(account_type=User.AccountType.PARTICULIER)
        unverified = factory.Trait(email_verified_at=None)
        with_establishment = factory.Trait(
            establishment=factory.SubFactory(EstablishmentFactory),
            declared_siret=factory.SelfAttribute("establishment.siret"),
            declared_siren=factory.SelfAttribute("establishment.siren"),
            declared_company_name=factory.SelfAttribute("establishment.name"),
            establishment_verified=True,
        )


PASSWORD = "Un mot de passe solide 2026"


class DemarcheFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Demarche
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"demarche-{n}")
    short_label = factory.Sequence(lambda n: f"DEM{n}")
    long_name = factory.Sequence(lambda n: f"Démarche de test {n}")
    service_type = "Service de test"
    accepts_activation_codes = True


class RoleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Role
        django_get_or_create = ("demarche", "code")

    demarche = factory.SubFactory(DemarcheFactory)
    code = factory.Sequence(lambda n: f"role-{n}")
    label = factory.Sequence(lambda n: f"Rôle {n}")
    description = "Rôle de test"


class HabilitationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Habilitation

    user = factory.SubFactory(UserFactory)
    role = factory.SubFactory(RoleFactory)
    demarche = factory.SelfAttribute("role.demarche")
    establishment = factory.SubFactory(EstablishmentFactory)
    origin = Habilitation.Origin.AGENT
