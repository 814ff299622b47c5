"""The local copy of INSEE's Sirene stock files (imported by `manage.py import_sirene`)."""

from portail.companies.models import Establishment, SireneEtablissement, SireneUniteLegale
from portail.companies.registry import EstablishmentData, UnknownSiret


class SireneLocalAdapter:
    source = Establishment.Source.SIRENE_LOCAL
    cached = False  # the table is local: nothing to gain from a cache

    def fetch(self, siret: str) -> EstablishmentData:
        etablissement = SireneEtablissement.objects.filter(siret=siret).first()
        if etablissement is None:
            raise UnknownSiret()
        unite = SireneUniteLegale.objects.filter(siren=etablissement.siren).first()
        name = (unite.name if unite else "") or etablissement.enseigne
        return EstablishmentData(
            siret=etablissement.siret,
            siren=etablissement.siren,
            name=name,
            address=etablissement.address,
            postcode=etablissement.postcode,
            commune=etablissement.commune,
            is_head_office=etablissement.is_head_office,
            # A closed company closes all its establishments, whatever the establishment row says.
            is_active=etablissement.is_active and (unite.is_active if unite else True),
            source=self.source,
        )
