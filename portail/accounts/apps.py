from django.apps import AppConfig

from portail.core import housekeeping, strong_auth


class AccountsConfig(AppConfig):
    name = "portail.accounts"
    label = "accounts"

    def ready(self) -> None:
        # `limits` registers the app's rate limiters (the support page lists them); `user_sessions`
        # connects the login receiver that indexes sessions; `mfa` tells who has a second factor.
        # All import models, which Django loads after the app configs.
        from portail.accounts import limits, mfa, user_sessions  # noqa: F401, PLC0415

        housekeeping.register_chore("known_browsers_forgotten", user_sessions.forget_old_browsers)
        strong_auth.register_factor_lookup(mfa.has_second_factor)
