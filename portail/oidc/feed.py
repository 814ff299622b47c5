"""The feed of habilitation changes as a démarche sees it: its events, in JSON.

An event names the person only by `sub` (the subject the provider gives this démarche's client:
`User.public_id`, as in portail.oidc.validators) and the establishment by SIRET: no name, no
email. The cursor is the sequence number of the last event read (portail.habilitations.feed).
"""

from dataclasses import dataclass
from datetime import UTC
from typing import Any

from portail.core.refusals import Refusal
from portail.demarches.models import Demarche
from portail.habilitations.models import HabilitationChange, HabilitationFeed

PAGE_SIZE = 100
PAGE_MAX = 500


class CursorError(Refusal):
    """The cursor is not a number the feed gave, or points past its end."""


def event_id(demarche: Demarche, sequence: int) -> str:
    """The event's idempotency key: unique per démarche and sequence, the same on every try."""
    return f"{demarche.code}:{sequence}"


def event_payload(demarche: Demarche, change: HabilitationChange) -> dict[str, Any]:
    return {
        "id": event_id(demarche, change.sequence),
        "sequence": change.sequence,
        "type": change.kind,
        "sub": str(change.user.public_id) if change.user is not None else None,
        "siret": change.siret,
        "roles_before": change.roles_before,
        "roles_after": change.roles_after,
        "occurred_at": change.occurred_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
    }


def last_sequence(demarche: Demarche) -> int:
    return (
        HabilitationFeed.objects.filter(demarche=demarche)
        .values_list("last_sequence", flat=True)
        .first()
        or 0
    )


def parse_cursor(raw: str, demarche: Demarche) -> int:
    """`after` as the feed gave it: "" or "0" for the beginning, else a number it has reached."""
    raw = raw.strip()
    if not raw:
        return 0
    if not raw.isdigit() or len(raw) > 19:
        raise CursorError("Le curseur doit être le numéro d'un événement du flux (un entier).")
    cursor = int(raw)
    last = last_sequence(demarche)
    if cursor > last:
        raise CursorError(f"Le curseur {cursor} est au-delà du dernier événement du flux ({last}).")
    return cursor


@dataclass(frozen=True)
class Page:
    events: list[dict[str, Any]]
    next_cursor: int
    last_sequence: int

    def as_json(self) -> dict[str, Any]:
        return {
            "events": self.events,
            "next_cursor": str(self.next_cursor),
            "has_more": self.next_cursor < self.last_sequence,
            "last_sequence": self.last_sequence,
        }


def page_after(demarche: Demarche, cursor: int, limit: int = PAGE_SIZE) -> Page:
    # Read the end first: an event committed between the two reads shows up next time, never
    # as a gap (numbers commit in order, portail.habilitations.models.HabilitationFeed).
    last = last_sequence(demarche)
    changes = list(
        HabilitationChange.objects.after(demarche.pk, cursor)
        .filter(sequence__lte=last)
        .select_related("user")[: max(1, min(limit, PAGE_MAX))]
    )
    events = [event_payload(demarche, change) for change in changes]
    return Page(events, changes[-1].sequence if changes else cursor, last)
