"""Demo data of the démarches: the catalogue (already loaded by the migration, kept idempotent)."""

from portail.demarches.catalogue import install_catalogue
from portail.demarches.models import Demarche, Role


def load(stdout) -> list[str]:
    install_catalogue(Demarche, Role)
    return []
