"""Pushing each démarche its feed of habilitation changes (run by the worker).

Each event is POSTed to the démarche's `WebhookSubscription.url` as a JWT signed (RS256) with the
provider's ID-token key: the démarche verifies it with the JWKS it already uses for ID tokens,
and the portal keeps no shared secret in clear (docs/decisions/0019). Claims: `iss`, `aud` (the
démarche's client_id), `iat`, `jti` (the event's id, also sent as `Idempotency-Key`) and `event`
(the feed's JSON of the event, portail.oidc.feed).

At least once, in order per démarche: event n+1 leaves only after n was acknowledged (2xx). A
failure keeps the event and waits a growing back-off (WEBHOOK_RETRY_BASE_SECONDS, doubling, at
most WEBHOOK_MAX_BACKOFF_SECONDS), without end. A lease (`claimed_until`) keeps two workers off
the same démarche. The receiver may see an event twice (a timeout after it was processed): the
`jti` lets it ignore the second.
"""

import base64
import json
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import requests
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from django.conf import settings
from django.db.models import F, OuterRef, Q, Subquery
from django.utils import timezone
from jwcrypto import jwk  # type: ignore[import-untyped]  # no stubs installed
from oauth2_provider.settings import oauth2_settings

from portail.demarches.models import Demarche
from portail.habilitations.models import HabilitationChange, HabilitationFeed
from portail.oidc.feed import event_payload, last_sequence
from portail.oidc.models import WebhookSubscription

log = logging.getLogger(__name__)

LEASE_SECONDS = 60
BATCH = 200  # events pushed to one démarche per pass, at most
CONTENT_TYPE = "application/jwt"
_session = requests.Session()


def issuer() -> str:
    return str(oauth2_settings.OIDC_ISS_ENDPOINT or f"{settings.PORTAL_BASE_URL}/o").rstrip("/")


@dataclass(frozen=True)
class SigningKey:
    private_key: rsa.RSAPrivateKey
    kid: str  # as the JWKS names it (the JWK thumbprint, DOT's choice)


_keys: dict[str, SigningKey] = {}


def signing_key(pem: str | None = None) -> SigningKey:
    """The provider's ID-token key, loaded once per process: loading (and checking) an RSA key
    costs more than a hundred signatures."""
    pem = pem or oauth2_settings.OIDC_RSA_PRIVATE_KEY
    key = _keys.get(pem)
    if key is None:
        private_key = serialization.load_pem_private_key(pem.encode(), password=None)
        if not isinstance(private_key, rsa.RSAPrivateKey):
            raise TypeError("The OIDC signing key must be an RSA key.")
        key = _keys[pem] = SigningKey(private_key, jwk.JWK.from_pem(pem.encode()).thumbprint())
    return key


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def signed_event(demarche: Demarche, event: dict[str, Any], key: SigningKey | None = None) -> str:
    """The event as a compact JWS (RS256, RFC 7515), the ID tokens' format."""
    claims = {
        "iss": issuer(),
        "aud": demarche.oidc_client_id,
        "iat": int(time.time()),
        "jti": event["id"],
        "event": event,
    }
    return signed_jwt(claims, key or signing_key())


def signed_jwt(claims: dict[str, Any], key: SigningKey, typ: str = "JWT") -> str:
    """`claims` as a compact JWS (RS256, RFC 7515) with the ID-token key."""
    header = {"alg": "RS256", "typ": typ, "kid": key.kid}
    signing_input = ".".join(
        _b64(json.dumps(part, separators=(",", ":")).encode()) for part in (header, claims)
    )
    signature = key.private_key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{_b64(signature)}"


def backoff_seconds(attempts: int) -> int:
    factor: int = 2 ** max(0, attempts - 1)
    return int(
        min(settings.WEBHOOK_MAX_BACKOFF_SECONDS, settings.WEBHOOK_RETRY_BASE_SECONDS * factor)
    )


def _claim(subscription_id: int) -> bool:
    now = timezone.now()
    return bool(
        WebhookSubscription.objects.filter(pk=subscription_id)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .update(claimed_until=now + timedelta(seconds=LEASE_SECONDS))
    )


def _post(url: str, token: str, event_id: str) -> str:
    """ "" when acknowledged, else why not (no body of the answer: it could hold anything)."""
    try:
        response = _session.post(
            url,
            data=token.encode(),
            headers={"Content-Type": CONTENT_TYPE, "Idempotency-Key": event_id},
            timeout=settings.WEBHOOK_TIMEOUT,
            allow_redirects=False,
        )
    except requests.RequestException as exc:
        return type(exc).__name__
    if 200 <= response.status_code < 300:
        return ""
    return f"HTTP {response.status_code}"


def deliver_to(subscription: WebhookSubscription, key: SigningKey) -> tuple[int, bool]:
    """Push what the démarche has not acknowledged, in order. Returns (delivered, failed)."""
    demarche = Demarche.objects.get(pk=subscription.demarche_id)
    changes = list(
        HabilitationChange.objects.after(demarche.pk, subscription.delivered_sequence)
        .filter(sequence__lte=last_sequence(demarche))
        .select_related("user")[:BATCH]
    )
    delivered = 0
    for change in changes:
        event = event_payload(demarche, change)
        error = _post(subscription.url, signed_event(demarche, event, key), event["id"])
        now = timezone.now()
        if error:
            attempts = subscription.attempts + 1
            WebhookSubscription.objects.filter(pk=subscription.pk).update(
                attempts=attempts,
                failures=subscription.failures + 1,
                last_error=f"{event['id']} : {error}"[:500],
                last_failure_at=now,
                next_attempt_at=now + timedelta(seconds=backoff_seconds(attempts)),
            )
            log.warning(
                "Webhook of %s: event %s not delivered (attempt %s): %s",
                demarche.code,
                change.sequence,
                attempts,
                error,
            )
            return delivered, True
        subscription.delivered_sequence = change.sequence
        subscription.attempts = 0
        WebhookSubscription.objects.filter(pk=subscription.pk).update(
            delivered_sequence=change.sequence,
            last_delivered_at=now,
            attempts=0,
            next_attempt_at=None,
            claimed_until=now + timedelta(seconds=LEASE_SECONDS),
        )
        delivered += 1
    return delivered, False


def deliver_webhooks() -> dict[str, int]:
    """One pass over the démarches with a webhook: {"delivered": n, "failed": n}."""
    counts = {"delivered": 0, "failed": 0}
    # One query when nothing is waiting (the worker asks every second).
    last = HabilitationFeed.objects.filter(demarche_id=OuterRef("demarche_id"))
    due = list(
        WebhookSubscription.objects.due(timezone.now())
        .annotate(last=Subquery(last.values("last_sequence")[:1]))
        .filter(last__gt=F("delivered_sequence"))
        .values_list("pk", flat=True)
    )
    key: SigningKey | None = None
    for pk in due:
        if not _claim(pk):
            continue  # another worker has it
        try:
            subscription = WebhookSubscription.objects.get(pk=pk)
            key = key or signing_key()
            delivered, failed = deliver_to(subscription, key)
        finally:
            WebhookSubscription.objects.filter(pk=pk).update(claimed_until=None)
        counts["delivered"] += delivered
        counts["failed"] += int(failed)
    return counts


def subscribe(demarche: Demarche, url: str) -> WebhookSubscription:
    """Set (or change) the démarche's webhook; where it got in the feed is kept."""
    subscription, _ = WebhookSubscription.objects.update_or_create(
        demarche=demarche, defaults={"url": url, "attempts": 0, "next_attempt_at": None}
    )
    return subscription


@dataclass(frozen=True)
class DeliveryState:
    """What the agents' back-office shows of a démarche's webhook."""

    demarche: Demarche
    url: str
    delivered_sequence: int
    last_sequence: int
    last_delivered_at: datetime | None
    attempts: int
    failures: int
    last_error: str
    last_failure_at: datetime | None
    next_attempt_at: datetime | None

    @property
    def backlog(self) -> int:
        return max(0, self.last_sequence - self.delivered_sequence)


def delivery_states() -> list[DeliveryState]:
    """Every démarche with a webhook: where its delivery stands (two queries)."""
    subscriptions = list(
        WebhookSubscription.objects.select_related("demarche").order_by("demarche__code")
    )
    last = dict(
        HabilitationFeed.objects.filter(
            demarche_id__in=[s.demarche_id for s in subscriptions]
        ).values_list("demarche_id", "last_sequence")
    )
    return [
        DeliveryState(
            demarche=s.demarche,
            url=s.url,
            delivered_sequence=s.delivered_sequence,
            last_sequence=last.get(s.demarche_id, 0),
            last_delivered_at=s.last_delivered_at,
            attempts=s.attempts,
            failures=s.failures,
            last_error=s.last_error,
            last_failure_at=s.last_failure_at,
            next_attempt_at=s.next_attempt_at,
        )
        for s in subscriptions
    ]
