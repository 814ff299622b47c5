from django.apps import AppConfig


class BackofficeConfig(AppConfig):
    name = "portail.backoffice"
    label = "backoffice"

    def ready(self) -> None:
        # Registers the app's rate limiters (the support page lists them); it imports models,
        # which Django loads after the app configs.
        from portail.accounts.dormancy import dormant_sole_gestionnaire  # noqa: PLC0415
        from portail.backoffice import dormancy, limits  # noqa: F401, PLC0415

        # The agents of the region hear of a dormant account that is the last gestionnaire of a
        # démarche somewhere, before it is deactivated (portail.accounts.dormancy).
        dormant_sole_gestionnaire.connect(
            dormancy.warn_agents, dispatch_uid="portail.backoffice.dormancy"
        )
