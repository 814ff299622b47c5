from django.apps import AppConfig

from portail.core import housekeeping, strong_auth


class AccountsConfig(AppConfig):
    name = "portail.accounts"
    label = "accounts"

    def ready(self) -> None:
        # `limits` registers the app's rate limiters (the support page lists them); `user_sessions`
        # connects the login receiver that indexes sessions; `mfa` tells who has a second factor.
        # All import models, which Django loads after the app configs.
        # `dormancy` connects the login receiver that clears a dormancy warning.
        from django.contrib.auth.models import update_last_login  # noqa: PLC0415
        from django.contrib.auth.signals import user_logged_in  # noqa: PLC0415

        from portail.accounts import (  # noqa: F401, PLC0415
            dormancy,
            last_login,
            limits,
            mfa,
            retention,
            user_sessions,
        )

        # `last_login` in a statement prepared once, instead of Django's receiver (last_login.py).
        user_logged_in.disconnect(update_last_login, dispatch_uid="update_last_login")
        user_logged_in.connect(last_login.write_at_login, dispatch_uid="update_last_login")

        housekeeping.register_chore("known_browsers_forgotten", user_sessions.forget_old_browsers)
        housekeeping.register_chore("dormant_accounts_warned", dormancy.warn_dormant_accounts)
        housekeeping.register_chore(
            "dormant_accounts_deactivated", dormancy.deactivate_dormant_accounts
        )
        housekeeping.register_chore(
            "unactivated_accounts_deleted", retention.delete_unactivated_accounts
        )
        strong_auth.register_factor_lookup(mfa.has_second_factor)
