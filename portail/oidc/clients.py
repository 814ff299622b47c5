"""Registering a démarche as an OpenID Connect client of the portal (one function per change)."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.db import transaction
from oauth2_provider.generators import generate_client_id, generate_client_secret
from oauth2_provider.models import get_application_model
from oauth2_provider.settings import oauth2_settings

from portail.audit.journal import record
from portail.core.context import SYSTEM, Context
from portail.core.refusals import Refusal
from portail.demarches.models import Demarche
from portail.oidc import backchannel
from portail.oidc.webhooks import subscribe

if TYPE_CHECKING:
    from portail.accounts.models import User

Application = get_application_model()


class ClientRegistrationError(Refusal):
    """The registration was refused; the message says why (for the operator)."""


@dataclass(frozen=True)
class RegisteredClient:
    application: Any  # DOT's Application (untyped)
    client_id: str
    client_secret: str  # in clear: shown once, then only its keyed hash exists


def check_uris(uris: Sequence[str], what: str) -> list[str]:
    """Exact, absolute URIs with an allowed scheme, no fragment, no wildcard (RFC 9700 §2.1)."""
    allowed = set(oauth2_settings.ALLOWED_REDIRECT_URI_SCHEMES)
    checked = []
    for uri in uris:
        parts = urlsplit(uri)
        if parts.scheme not in allowed:
            raise ClientRegistrationError(
                f"{what} {uri!r}: scheme must be one of {', '.join(sorted(allowed))}."
            )
        if not parts.netloc or parts.fragment or "*" in uri or " " in uri:
            raise ClientRegistrationError(
                f"{what} {uri!r}: an absolute URI without fragment or wildcard is required."
            )
        checked.append(uri)
    return checked


def register_demarche_client(
    *,
    actor: "User | None",
    demarche: Demarche,
    redirect_uris: Sequence[str],
    post_logout_redirect_uris: Sequence[str] = (),
    client_id: str | None = None,
    client_secret: str | None = None,
    replace: bool = False,
    webhook_url: str = "",
    backchannel_logout_uri: str = "",
    context: Context = SYSTEM,
) -> RegisteredClient:
    """Create the confidential RS256 client of `demarche` (no consent screen: a ministry démarche).

    `replace` retires the démarche's previous client (its tokens go with it). `webhook_url`: where
    the portal pushes the démarche's habilitation changes (portail.oidc.webhooks).
    `backchannel_logout_uri`: where it receives logout tokens (portail.oidc.backchannel).
    """
    if not redirect_uris:
        raise ClientRegistrationError("At least one redirect URI is required.")
    redirect_uris = check_uris(redirect_uris, "Redirect URI")
    post_logout_redirect_uris = check_uris(post_logout_redirect_uris, "Post-logout URI")
    if webhook_url:
        check_uris([webhook_url], "Webhook URL")
    if backchannel_logout_uri:
        check_uris([backchannel_logout_uri], "Back-channel logout URI")
    client_id = client_id or generate_client_id()
    client_secret = client_secret or generate_client_secret()
    with transaction.atomic():
        demarche = Demarche.objects.select_for_update().get(pk=demarche.pk)
        previous = (
            Application.objects.filter(client_id=demarche.oidc_client_id).first()
            if demarche.oidc_client_id
            else None
        )
        if previous is not None and not replace:
            raise ClientRegistrationError(
                f"{demarche.short_label} already has a client ({previous.client_id}); "
                "use --replace to issue new credentials."
            )
        if previous is not None:
            previous.delete()  # cascades to its grants and tokens
        application = Application(
            name=f"{demarche.short_label} — {demarche.long_name}",
            client_id=client_id,
            client_secret=client_secret,
            hash_client_secret=True,
            client_type=Application.CLIENT_CONFIDENTIAL,
            authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
            redirect_uris=" ".join(redirect_uris),
            post_logout_redirect_uris=" ".join(post_logout_redirect_uris),
            skip_authorization=True,
            algorithm=Application.RS256_ALGORITHM,
        )
        try:
            application.full_clean(exclude=["user", "client_secret"])
        except ValidationError as exc:
            raise ClientRegistrationError("; ".join(exc.messages)) from exc
        application.save()
        demarche.oidc_client_id = client_id
        demarche.save(update_fields=["oidc_client_id"])
        if webhook_url:
            subscribe(demarche, webhook_url)
        if backchannel_logout_uri:
            backchannel.set_endpoint(application, backchannel_logout_uri)
        record(
            "oidc.client_registered",
            actor=actor,
            target=demarche,
            demarche=demarche,
            context=context,
            data={
                "client_id": client_id,
                "redirect_uris": redirect_uris,
                "post_logout_redirect_uris": post_logout_redirect_uris,
                "replaced": previous is not None,
                "webhook_url": webhook_url,
                "backchannel_logout_uri": backchannel_logout_uri,
            },
        )
    return RegisteredClient(application, client_id, client_secret)


def set_webhook(
    *, actor: "User | None", demarche: Demarche, url: str, context: Context = SYSTEM
) -> None:
    """Set or change the démarche's webhook (its place in the feed is kept)."""
    check_uris([url], "Webhook URL")
    with transaction.atomic():
        subscribe(demarche, url)
        record(
            "oidc.webhook_set",
            actor=actor,
            target=demarche,
            demarche=demarche,
            context=context,
            data={"webhook_url": url},
        )
