"""Factories for the local Sirene tables (the `sirene_local` registry adapter)."""

import factory

from portail.companies.models import SireneEtablissement, SireneUniteLegale
from tests.factories import make_siren, make_siret


class SireneUniteLegaleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SireneUniteLegale
        django_get_or_create = ("siren",)

    siren = factory.Sequence(lambda n: make_siren(n + 610000))
    name = factory.Sequence(lambda n: f"ORGANISME DE FORMATION {n}")
    is_active = True


class SireneEtablissementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SireneEtablissement
        django_get_or_create = ("siret",)

    class Params:
        unite = factory.SubFactory(SireneUniteLegaleFactory)
        nic = 1
        closed = factory.Trait(is_active=False)

    siren = factory.LazyAttribute(lambda o: o.unite.siren)
    siret = factory.LazyAttribute(lambda o: make_siret(o.siren, o.nic))
    enseigne = ""
    address = factory.Sequence(lambda n: f"{n} RUE DES ÉCOLES")
    postcode = "44000"
    commune = "NANTES"
    is_head_office = True
    is_active = True
