"""Demo data: the shipped sample of INSEE's Sirene stock files (fictitious companies).

Other apps' demo data may use these SIRETs (they exist in the sample):
"""

from pathlib import Path

from django.core.management.base import OutputWrapper

from portail.companies import sirene_import
from portail.companies.siret import format_siret

DATA_DIR = Path(__file__).resolve().parent / "data"
UNITES_LEGALES_CSV = DATA_DIR / "StockUniteLegale_sample.csv"
ETABLISSEMENTS_CSV = DATA_DIR / "StockEtablissement_sample.csv"

# CFI ATLANTIQUE (the manual's example): head office at Nantes and four sites, one closed.
CFI_ATLANTIQUE_SIREN = "903100006"
CFI_ATLANTIQUE_SIRET = "90310000600019"  # siège, 12 QUAI DE LA FOSSE, 44000 NANTES
CFI_ATLANTIQUE_SITES = [
    "90310000600027",  # SAINT-NAZAIRE
    "90310000600035",  # LA ROCHE-SUR-YON
    "90310000600043",  # ANGERS
]
CFI_ATLANTIQUE_CLOSED_SITE = "90310000600050"  # CHOLET, fermé
GROUPE_HORIZON_SIRET = "90311781000015"  # GROUPE HORIZON COMPETENCES, siège à Paris
FORMAPRO_NORMANDIE_SIRET = "90310137600015"  # FORMAPRO NORMANDIE, siège à Caen


def load(stdout: OutputWrapper | None = None) -> list[str]:
    """Imports the sample into the local registry (an upsert: running it twice changes nothing)."""
    unites = sirene_import.import_unites_legales(UNITES_LEGALES_CSV)
    etablissements = sirene_import.import_etablissements(ETABLISSEMENTS_CSV)
    if stdout is not None:
        stdout.write(
            f"Répertoire des entreprises (local) : {unites.rows} entreprises, "
            f"{etablissements.rows} établissements fictifs."
        )
    sirets_to_try = (
        "SIRET à essayer : "
        f"{format_siret(CFI_ATLANTIQUE_SIRET)} (CFI ATLANTIQUE, siège à Nantes), "
        f"{format_siret(CFI_ATLANTIQUE_SITES[0])} (CFI ATLANTIQUE, Saint-Nazaire), "
        f"{format_siret(CFI_ATLANTIQUE_CLOSED_SITE)} (établissement fermé)."
    )
    return [sirets_to_try]
