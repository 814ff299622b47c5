from django.apps import AppConfig

from portail.core import strong_auth


class AccountsConfig(AppConfig):
    name = "portail.accounts"
    label = "accounts"

    def ready(self) -> None:
        # The factors' module imports models, loaded only once the registry is ready.
        from portail.accounts import mfa  # noqa: PLC0415

        strong_auth.register_factor_lookup(mfa.has_second_factor)
