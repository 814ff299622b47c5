"""State changes of the back-office: one function each, taking the acting agent.

Each runs in one transaction, locks what it changes, writes its audit event (with the agent's
identity) and queues its emails. Views only parse input and call these.
"""

import io
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import formats, timezone

from portail.audit.journal import record
from portail.audit.models import AuditEvent
from portail.backoffice.letters import LetterContent, render_letters
from portail.backoffice.models import Letter, LetterBatch
from portail.centres.models import Centre, LinkedSite
from portail.companies.models import Establishment
from portail.core.context import SYSTEM, Context
from portail.demarches import codes
from portail.demarches.models import ActivationCode, Demarche
from portail.notifications.emails import send_email

CERES = "ceres"
CLOSED_REASON_CODES = "Centre fermé"


class BackofficeError(Exception):
    """A rule refused the change; `message` is for the agent, in French."""

    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


def ceres() -> Demarche:
    return Demarche.objects.get(code=CERES)


def registry_address(establishment: Establishment) -> str:
    return "\n".join(x for x in (establishment.address, establishment.commune_line) if x)


# --- Centres -------------------------------------------------------------------------------


@transaction.atomic
def create_centre(
    *, actor, establishment: Establishment, data: dict, context: Context = SYSTEM
) -> Centre:
    """Register `establishment` as a centre agréé. Letter name/address default to the registry's."""
    establishment = Establishment.objects.select_for_update().get(pk=establishment.pk)
    if not establishment.is_active:
        raise BackofficeError("Cet établissement est fermé : il ne peut pas devenir centre agréé.")
    if Centre.objects.filter(establishment=establishment).exists():
        raise BackofficeError("Ce SIRET est déjà celui d’un centre agréé.")
    centre = Centre.objects.create(
        establishment=establishment,
        region=data["region"],
        agrement_reference=data.get("agrement_reference", ""),
        agrement_date=data.get("agrement_date"),
        contact_email=data.get("contact_email", ""),
        letter_name=(data.get("letter_name") or establishment.name)[:255],
        letter_address=data.get("letter_address") or registry_address(establishment),
        created_by=actor,
    )
    record(
        "backoffice.centre.created",
        actor=actor,
        target=centre,
        establishment=establishment,
        context=context,
        data={"siret": establishment.siret, "region": centre.region.code},
    )
    return centre


# The centre's fields an agent enters and may edit: the centre forms' fields, and what
# update_centre writes.
EDITABLE = (
    "region",
    "agrement_reference",
    "agrement_date",
    "contact_email",
    "letter_name",
    "letter_address",
)


@transaction.atomic
def update_centre(*, actor, centre: Centre, data: dict, context: Context = SYSTEM) -> Centre:
    centre = Centre.objects.select_for_update().get(pk=centre.pk)
    changed = [name for name in EDITABLE if getattr(centre, name) != data[name]]
    for name in changed:
        setattr(centre, name, data[name])
    if changed:
        centre.save(update_fields=changed)
        record(
            "backoffice.centre.updated",
            actor=actor,
            target=centre,
            establishment=centre.establishment,
            context=context,
            data={"fields": changed},
        )
    return centre


@transaction.atomic
def close_centre(*, actor, centre: Centre, reason: str, context: Context = SYSTEM) -> Centre:
    """Close the centre: no new code, and its unused codes stop working now."""
    centre = Centre.objects.select_for_update().get(pk=centre.pk)
    if centre.closed_at is not None:
        raise BackofficeError("Ce centre est déjà fermé.")
    now = timezone.now()
    centre.closed_at = now
    centre.closed_reason = reason[:255]
    centre.save(update_fields=["closed_at", "closed_reason"])
    revoked = ActivationCode.objects.filter(
        demarche=ceres(),
        siret=centre.establishment.siret,
        used_at__isnull=True,
        revoked_at__isnull=True,
    ).update(revoked_at=now, revoked_reason=f"{CLOSED_REASON_CODES} : {reason}"[:255])
    recipients = _closure_recipients(centre)
    for email in recipients:
        send_email(
            "backoffice/emails/centre_closed",
            email,
            {
                "centre": centre,
                "siret": centre.establishment.siret,
                "closed_on": formats.date_format(timezone.localdate(now), "j F Y"),
                "hours": settings.ASSISTANCE_HOURS,
                "phone": settings.ASSISTANCE_PHONE,
            },
            category="backoffice",
            demarche=ceres(),
            establishment=centre.establishment,
        )
    record(
        "backoffice.centre.closed",
        actor=actor,
        target=centre,
        establishment=centre.establishment,
        context=context,
        data={"reason": reason, "codes_revoked": revoked, "notified": len(recipients)},
    )
    return centre


def _closure_recipients(centre: Centre) -> list[str]:
    """The centre's contact address and the people who manage CERES for it."""
    from portail.habilitations.models import Habilitation

    emails = {centre.contact_email} if centre.contact_email else set()
    emails |= set(
        Habilitation.objects.active()
        .managing()
        .filter(demarche=ceres(), establishment=centre.establishment)
        .values_list("user__email", flat=True)
    )
    return sorted(emails)


@transaction.atomic
def add_linked_site(
    *, actor, centre: Centre, establishment=None, label="", address="", context: Context = SYSTEM
) -> LinkedSite:
    centre = Centre.objects.select_for_update().get(pk=centre.pk)
    if establishment is not None:
        if establishment.pk == centre.establishment_id:
            raise BackofficeError("Ce SIRET est celui du centre lui-même.")
        if centre.sites.filter(establishment=establishment).exists():
            raise BackofficeError("Ce site est déjà lié à ce centre.")
    site = LinkedSite.objects.create(
        centre=centre,
        establishment=establishment,
        label=label or (establishment.name if establishment else ""),
        address=address or (registry_address(establishment) if establishment else ""),
    )
    record(
        "backoffice.site.added",
        actor=actor,
        target=site,
        establishment=centre.establishment,
        context=context,
        data={"siret": establishment.siret if establishment else "", "label": site.label},
    )
    return site


@transaction.atomic
def remove_linked_site(*, actor, site: LinkedSite, context: Context = SYSTEM) -> None:
    site = (
        LinkedSite.objects.select_for_update()
        .select_related("centre__establishment")
        .get(pk=site.pk)
    )
    record(
        "backoffice.site.removed",
        actor=actor,
        target=site,
        establishment=site.centre.establishment,
        context=context,
        data={"label": str(site)},
    )
    site.delete()


# --- Letters -------------------------------------------------------------------------------


@dataclass
class GeneratedLetters:
    batch: LetterBatch
    pdf: bytes


REPLACED_REASON = "Remplacé par un nouveau code"
CHUNK = 500


def _issue_codes_in_bulk(
    *, actor, demarche, centres, batch, context: Context = SYSTEM
) -> tuple[list[str], list[ActivationCode]]:
    """The batch version of `portail.demarches.codes.issue_activation_code`, same rules and
    same rows: revoke the unused codes of these SIRETs, store a keyed hash per new code, journal
    one "activation_code.issued" event per code. A handful of queries per 500 centres instead of
    five per centre (see docs/decisions/0008). Returns the clear codes, in `centres` order."""
    now = timezone.now()
    expires_at = now + codes.validity()
    sirets = [c.establishment.siret for c in centres]
    for start in range(0, len(sirets), CHUNK):
        ActivationCode.objects.filter(
            demarche=demarche,
            siret__in=sirets[start : start + CHUNK],
            used_at__isnull=True,
            revoked_at__isnull=True,
        ).update(revoked_at=now, revoked_reason=REPLACED_REASON)
    clear = [codes.generate_code() for _ in centres]
    rows = ActivationCode.objects.bulk_create(
        [
            ActivationCode(
                demarche=demarche,
                siret=centre.establishment.siret,
                establishment=centre.establishment,
                code_hash=codes.hash_code(code),
                issued_by=actor,
                issued_at=now,
                expires_at=expires_at,
            )
            for centre, code in zip(centres, clear, strict=True)
        ],
        batch_size=CHUNK,
    )
    # The journal's own row, written in bulk (`record` writes one at a time); no code in `data`.
    AuditEvent.objects.bulk_create(
        [
            AuditEvent(
                actor=actor,
                actor_label=actor.email if actor else "",
                action="activation_code.issued",
                target_type=ActivationCode._meta.label_lower,
                target_id=str(row.pk),
                target_label=str(row)[:320],
                demarche_id=demarche.pk,
                establishment_id=row.establishment_id,
                ip=context.ip,
                request_id=context.request_id,
                data={
                    "siret": row.siret,
                    "expires_at": expires_at.isoformat(),
                    "letter_batch": batch.pk,
                },
            )
            for row in rows
        ],
        batch_size=CHUNK,
    )
    return clear, rows


@transaction.atomic
def generate_letters(
    *, actor, centres, source: str, description: str = "", context: Context = SYSTEM
) -> GeneratedLetters:
    """Issue a new CERES code for each centre (revoking its previous unused one) and draw the
    letters, one page each, into one PDF. All or nothing: if the PDF fails, no code is issued.

    The clear codes live only in the returned PDF: they are neither stored nor journaled.
    """
    demarche = ceres()
    pks = [c.pk for c in centres]
    centres = []
    for start in range(0, len(pks), CHUNK):
        centres += (
            Centre.objects.select_for_update(of=("self",))
            .select_related("establishment")
            .filter(pk__in=pks[start : start + CHUNK])
        )
    centres.sort(key=lambda c: (c.letter_name, c.pk))
    if not centres:
        raise BackofficeError("Aucun centre sélectionné.")
    closed = [c for c in centres if c.closed_at is not None]
    if closed:
        raise BackofficeError(
            f"Le centre {closed[0].letter_name} est fermé : aucun nouveau code ne peut être émis."
        )
    sirets = [c.establishment.siret for c in centres]
    with_previous = set()
    for start in range(0, len(sirets), CHUNK):
        with_previous |= set(
            ActivationCode.objects.filter(
                demarche=demarche,
                siret__in=sirets[start : start + CHUNK],
                used_at__isnull=True,
                revoked_at__isnull=True,
            ).values_list("siret", flat=True)
        )
    batch = LetterBatch.objects.create(
        source=source, description=description[:255], created_by=actor, letter_count=len(centres)
    )
    if len(centres) == 1:
        row, code = codes.issue_activation_code(
            actor=actor,
            demarche=demarche,
            siret=sirets[0],
            establishment=centres[0].establishment,
            context=context,
        )
        clear, rows = [code], [row]
    else:
        clear, rows = _issue_codes_in_bulk(
            actor=actor, demarche=demarche, centres=centres, batch=batch, context=context
        )
    letters = [
        Letter(
            centre=centre,
            batch=batch,
            activation_code=row,
            issued_by=actor,
            issued_at=row.issued_at,
            revoked_previous=centre.establishment.siret in with_previous,
        )
        for centre, row in zip(centres, rows, strict=True)
    ]
    Letter.objects.bulk_create(letters, batch_size=CHUNK)
    batch.revoked_count = sum(1 for letter in letters if letter.revoked_previous)
    batch.save(update_fields=["revoked_count"])
    record(
        "backoffice.letters.generated",
        actor=actor,
        target=batch,
        demarche=demarche,
        establishment=centres[0].establishment if len(centres) == 1 else None,
        context=context,
        data={
            "batch": batch.pk,
            "letters": len(letters),
            "revoked_previous": batch.revoked_count,
            "source": source,
        },
    )
    out = io.BytesIO()
    render_letters(
        (
            LetterContent(c.letter_name, c.letter_address, c.establishment.siret, code)
            for c, code in zip(centres, clear, strict=True)
        ),
        out,
    )
    return GeneratedLetters(batch=batch, pdf=out.getvalue())
