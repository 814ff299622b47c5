from django.apps import AppConfig

from portail.core import housekeeping


class AccountsConfig(AppConfig):
    name = "portail.accounts"
    label = "accounts"

    def ready(self) -> None:
        # Registers the app's rate limiters (the support page lists them); it imports models,
        # which Django loads after the app configs.
        from portail.accounts import limits  # noqa: F401, PLC0415

        # Connects the login receiver that indexes sessions (the module imports the models).
        from portail.accounts import user_sessions  # noqa: PLC0415

        housekeeping.register_chore("known_browsers_forgotten", user_sessions.forget_old_browsers)
