from django.apps import AppConfig


class BackofficeConfig(AppConfig):
    name = "portail.backoffice"
    label = "backoffice"

    def ready(self) -> None:
        # Registers the app's rate limiters (the support page lists them); it imports models,
        # which Django loads after the app configs.
        from portail.backoffice import limits  # noqa: F401, PLC0415
