from django.apps import AppConfig

from portail.core import deliveries, housekeeping


class OidcConfig(AppConfig):
    name = "portail.oidc"
    label = "oidc"

    def ready(self) -> None:
        # Both modules import DOT's models, which Django loads after the app configs: they can be
        # imported here, once the registry is ready, and not at the top of this module.
        from portail.accounts.user_sessions import session_ending  # noqa: PLC0415
        from portail.oidc import chores, client_cache, session_tokens, webhooks  # noqa: PLC0415

        client_cache.connect_signals()
        session_ending.connect(
            session_tokens.revoke_for_sessions, dispatch_uid="portail.oidc.session_tokens"
        )
        housekeeping.register_chore("oauth_tokens_cleared", chores.clear_expired_tokens)
        deliveries.register_delivery("webhooks", webhooks.deliver_webhooks)
