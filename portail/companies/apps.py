from django.apps import AppConfig


class CompaniesConfig(AppConfig):
    name = "portail.companies"
    label = "companies"

    def ready(self) -> None:
        # Registers the app's rate limiters (the support page lists them); it imports models,
        # which Django loads after the app configs.
        from portail.companies import limits  # noqa: F401, PLC0415
