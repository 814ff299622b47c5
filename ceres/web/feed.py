"""Following the portal's feed of habilitation changes (docs/oidc.md, "Le flux des habilitations").

- the webhook (`receive`): each event arrives as a JWT signed by the portal's key (the JWKS of
  the ID tokens), checked for issuer, audience (our client_id) and signature, applied once (its
  `jti` is kept: a second delivery is acknowledged and ignored);
- the catch-up (`catch_up`, `manage.py follow_portal_feed`, and at once when a webhook event
  shows a gap): the feed read with our client credentials from the last number applied.

Applying an event sets the person's roles on the establishment to `roles_after`.
"""

import logging
from datetime import datetime, timedelta
from functools import cache
from typing import Any

import jwt
import requests
from django.conf import settings
from django.db import IntegrityError, connections, router, transaction
from django.db.models import Max
from django.utils import timezone

from ceres.web.models import PortalRoles, ReceivedEvent

log = logging.getLogger(__name__)

Event = dict[str, Any]


class RejectedEventError(Exception):
    """The request is not a valid signed event of the portal for CERES."""


@cache
def _jwks() -> jwt.PyJWKClient:
    return jwt.PyJWKClient(settings.OIDC_OP_JWKS_ENDPOINT, lifespan=3600)


def verified_event(token: str, idempotency_key: str) -> Event:
    try:
        key = _jwks().get_signing_key_from_jwt(token)
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=["RS256"],
            audience=settings.OIDC_RP_CLIENT_ID,
            issuer=settings.OIDC_ISSUER,
            options={"require": ["iss", "aud", "iat", "jti"]},
        )
    except (jwt.PyJWTError, jwt.PyJWKClientError) as exc:
        raise RejectedEventError(f"signature or claims rejected: {exc.__class__.__name__}") from exc
    event = claims.get("event")
    if not isinstance(event, dict) or event.get("id") != claims["jti"]:
        raise RejectedEventError("the event does not match its jti")
    if idempotency_key and idempotency_key != claims["jti"]:
        raise RejectedEventError("Idempotency-Key differs from jti")
    return event


# A delivery is retried for minutes, hours at most: an event id older than this is no longer
# needed to refuse a second copy (and an old copy never undoes a newer event: `apply`).
RECEIVED_EVENTS_KEPT = timedelta(days=30)


def forget_old_events(now: datetime | None = None) -> int:
    """Delete the ids of events applied more than 30 days ago, but the last one (its number is
    the cursor of the catch-up). How many were deleted."""
    last = last_applied()
    cutoff = (now or timezone.now()) - RECEIVED_EVENTS_KEPT
    deleted, _ = (
        ReceivedEvent.objects.filter(received_at__lt=cutoff).exclude(sequence=last).delete()
    )
    return deleted


def last_applied() -> int:
    last: int | None = ReceivedEvent.objects.aggregate(last=Max("sequence"))["last"]
    return last or 0


def apply(event: Event) -> bool:
    """Apply one event once. False when it was already applied (a second delivery)."""
    try:
        with transaction.atomic():
            ReceivedEvent.objects.create(event_id=event["id"], sequence=event["sequence"])
            current = PortalRoles.objects.filter(sub=event["sub"], siret=event["siret"]).first()
            # Events come in order; a late copy of an older one never undoes a newer one.
            if current is None or current.sequence < event["sequence"]:
                PortalRoles.objects.update_or_create(
                    sub=event["sub"],
                    siret=event["siret"],
                    defaults={
                        "roles": list(event["roles_after"]),
                        "sequence": event["sequence"],
                        "occurred_at": datetime.fromisoformat(event["occurred_at"]),
                    },
                )
    except IntegrityError:
        return False
    return True


def receive(event: Event) -> None:
    """A webhook event: the ones missed before it first (after an outage of CERES), then it."""
    if event["sequence"] > last_applied() + 1:
        catch_up()
    apply(event)


def catch_up(page_size: int = 200) -> int:
    """Read the feed from the last number applied to its end. Returns how many were applied."""
    url = f"{settings.OIDC_ISSUER}/demarches/{settings.CERES_DEMARCHE_CODE}/habilitation-changes/"
    applied = 0
    while True:
        response = requests.get(
            url,
            params={"after": str(last_applied()), "limit": str(page_size)},
            auth=(settings.OIDC_RP_CLIENT_ID, settings.OIDC_RP_CLIENT_SECRET),
            timeout=settings.OIDC_TIMEOUT,
        )
        response.raise_for_status()
        page = response.json()
        applied += sum(apply(event) for event in page["events"])
        if not page["has_more"] or not page["events"]:
            return applied


def roles_since(sub: str, moment: datetime) -> dict[str, list[str]]:
    """{siret: role codes} of the changes the portal made for `sub` after `moment`.

    The landing page asks it at every visit: one plain statement whose text is made once,
    its values converted as the ORM converts them (building and compiling the ORM's query cost
    more than running it; tests/ceres/test_roles_since.py compares the two)."""
    connection = connections[router.db_for_read(PortalRoles)]
    roles: Any = PortalRoles._meta.get_field("roles")  # its from_db_value, as the ORM's
    with connection.cursor() as cursor:
        cursor.execute(
            _roles_since_sql(connection.alias),
            [sub, connection.ops.adapt_datetimefield_value(moment)],
        )
        return {
            siret: list(roles.from_db_value(value, None, connection))
            for siret, value in cursor.fetchall()
        }


@cache
def _roles_since_sql(alias: str) -> str:
    quote = connections[alias].ops.quote_name
    meta = PortalRoles._meta
    column = {field.name: quote(field.column) for field in meta.concrete_fields}
    siret, roles, sub, occurred_at = (
        column[name] for name in ("siret", "roles", "sub", "occurred_at")
    )
    return (
        f"SELECT {siret}, {roles} FROM {quote(meta.db_table)}"  # noqa: S608
        f" WHERE {sub} = %s AND {occurred_at} > %s"
    )
