from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "portail.accounts"
    label = "accounts"

    def ready(self) -> None:
        # Registers the app's rate limiters (the support page lists them); it imports models,
        # which Django loads after the app configs.
        from portail.accounts import limits  # noqa: F401, PLC0415
