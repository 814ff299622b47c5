"""Demo data of the démarches: the catalogue (already loaded by the migration, kept idempotent)."""

from typing import Any

from portail.companies.demo import CFI_ATLANTIQUE_SIRET
from portail.demarches.catalogue import install_catalogue
from portail.demarches.models import Demarche, Role


def load(stdout: Any) -> list[str]:
    install_catalogue(Demarche, Role)

    command = f".venv/bin/python manage.py issue_activation_code ceres {CFI_ATLANTIQUE_SIRET}"
    return [f"Code d'activation CERES (affiché une seule fois) : {command}"]
