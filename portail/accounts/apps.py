from django.apps import AppConfig

from portail.core import housekeeping


class AccountsConfig(AppConfig):
    name = "portail.accounts"
    label = "accounts"

    def ready(self) -> None:
        # `limits` registers the app's rate limiters (the support page lists them); `user_sessions`
        # connects the login receiver that indexes sessions. Both import models, which Django loads
        # after the app configs.
        from portail.accounts import limits, user_sessions  # noqa: F401, PLC0415

        housekeeping.register_chore("known_browsers_forgotten", user_sessions.forget_old_browsers)
