from django.apps import AppConfig

from portail.core import deliveries, housekeeping


class OidcConfig(AppConfig):
    name = "portail.oidc"
    label = "oidc"

    def ready(self) -> None:
        # These modules import DOT's models, which Django loads after the app configs: they can be
        # imported here, once the registry is ready, and not at the top of this module.
        from django.contrib.auth.signals import user_logged_out  # noqa: PLC0415
        from django.db.models.signals import post_save  # noqa: PLC0415

        from portail.accounts.user_sessions import session_ending  # noqa: PLC0415
        from portail.habilitations.models import HabilitationChange  # noqa: PLC0415
        from portail.oidc import (  # noqa: PLC0415
            backchannel,
            chores,
            client_cache,
            session_tokens,
            webhooks,
        )

        client_cache.connect_signals()
        session_ending.connect(
            session_tokens.revoke_for_sessions, dispatch_uid="portail.oidc.session_tokens"
        )
        housekeeping.register_chore("oauth_tokens_cleared", chores.clear_expired_tokens)
        deliveries.register_delivery("webhooks", webhooks.deliver_webhooks)
        # Back-channel logout: queued before the session rows go (they cascade to SessionGrant).
        session_ending.connect(
            backchannel.queue_for_sessions, dispatch_uid="portail.oidc.backchannel"
        )
        user_logged_out.connect(backchannel.queue_at_logout, dispatch_uid="portail.oidc.logout")
        post_save.connect(
            backchannel.queue_after_change,
            sender=HabilitationChange,
            dispatch_uid="portail.oidc.backchannel.habilitations",
        )
        deliveries.register_delivery("backchannel_logout", backchannel.deliver_logouts)
