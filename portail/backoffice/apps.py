from django.apps import AppConfig

from portail.core import housekeeping


class BackofficeConfig(AppConfig):
    name = "portail.backoffice"
    label = "backoffice"

    def ready(self) -> None:
        # Registers the app's rate limiters (the support page lists them); it imports models,
        # which Django loads after the app configs.
        from portail.accounts.dormancy import dormant_sole_gestionnaire  # noqa: PLC0415
        from portail.backoffice import dormancy, limits  # noqa: F401, PLC0415
        from portail.backoffice.closures import handle_establishment_closures  # noqa: PLC0415
        from portail.companies.sirene_import import CLOSURES_CHORE  # noqa: PLC0415

        # Establishments found closed by the Sirene import (decision 0022).
        housekeeping.register_chore(CLOSURES_CHORE, handle_establishment_closures)
        # The agents of the region hear of a dormant account that is the last gestionnaire of a
        # démarche somewhere, before it is deactivated (portail.accounts.dormancy).
        dormant_sole_gestionnaire.connect(
            dormancy.warn_agents, dispatch_uid="portail.backoffice.dormancy"
        )
