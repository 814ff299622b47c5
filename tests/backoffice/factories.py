"""Factories of the back-office: agents (with a confirmed TOTP device of known key), centres."""

import factory
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from portail.backoffice.models import AgentProfile
from portail.centres.models import Centre, Region
from tests.factories import EstablishmentFactory, UserFactory

TOTP_KEY_HEX = "3132333435363738393031323334353637383930"


def current_code(device: TOTPDevice) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


def region(code: str) -> Region:
    return Region.objects.get(code=code)


class AgentFactory(factory.django.DjangoModelFactory):
    """An agent; `regions=["52"]` (INSEE codes) or `is_national=True`; `totp=False` for none."""

    class Meta:
        model = AgentProfile
        skip_postgeneration_save = True

    user = factory.SubFactory(
        UserFactory,
        email=factory.Sequence(lambda n: f"agent{n}@dreets.gouv.fr"),
        account_type="partenaire",
    )
    is_national = False

    @factory.post_generation
    def regions(self, create, extracted, **kwargs):
        if create and extracted:
            self.regions.set(Region.objects.filter(code__in=extracted))

    @factory.post_generation
    def totp(self, create, extracted, **kwargs):
        if create and extracted is not False:
            TOTPDevice.objects.create(user=self.user, name="Test", key=TOTP_KEY_HEX, confirmed=True)


class CentreFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Centre

    establishment = factory.SubFactory(EstablishmentFactory)
    region = factory.LazyFunction(lambda: Region.objects.get(code="52"))
    agrement_reference = factory.Sequence(lambda n: f"AGR-{n:04d}")
    letter_name = factory.LazyAttribute(lambda o: o.establishment.name)
    letter_address = factory.LazyAttribute(
        lambda o: f"{o.establishment.address}\n{o.establishment.postcode} {o.establishment.commune}"
    )
