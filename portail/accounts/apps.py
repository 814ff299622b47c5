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
        from portail.accounts import (  # noqa: F401, PLC0415
            dormancy,
            limits,
            mfa,
            retention,
            user_sessions,
        )

        housekeeping.register_chore("known_browsers_forgotten", user_sessions.forget_old_browsers)
        housekeeping.register_chore("dormant_accounts_warned", dormancy.warn_dormant_accounts)
        housekeeping.register_chore(
            "dormant_accounts_deactivated", dormancy.deactivate_dormant_accounts
        )
        housekeeping.register_chore(
            "unactivated_accounts_deleted", retention.delete_unactivated_accounts
        )
        strong_auth.register_factor_lookup(mfa.has_second_factor)
