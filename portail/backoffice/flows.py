"""State changes of the back-office: one function each, taking the acting agent.

Each runs in one transaction, locks what it changes, writes its audit event (with the agent's
identity) and queues its emails. Views only parse input and call these.
"""

import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import formats, timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from portail.accounts.models import User
from portail.audit.journal import record
from portail.audit.models import AuditEvent
from portail.backoffice.letters import LetterContent, render_letters
from portail.backoffice.models import Letter, LetterBatch
from portail.centres.models import Centre, CentreImport, LinkedSite
from portail.companies import registry
from portail.companies.models import Establishment
from portail.core.context import SYSTEM, Context
from portail.core.refusals import Refusal
from portail.demarches import codes
from portail.demarches.models import ActivationCode, Demarche
from portail.habilitations.feed import record_establishment_closed
from portail.habilitations.models import Habilitation
from portail.notifications.emails import send_email

CERES = "ceres"
CLOSED_REASON_CODES = "Centre fermé"


class BackofficeError(Refusal):
    """A rule refused the change; `message` is for the agent, in French."""


class AgentLoginError(Refusal):
    """The agent's sign-in is refused (a wrong password or code, a step expired, too many tries)."""


def ceres() -> Demarche:
    return Demarche.objects.get(code=CERES)


def registry_address(establishment: Establishment) -> str:
    return "\n".join(x for x in (establishment.address, establishment.commune_line) if x)


# --- Centres -------------------------------------------------------------------------------


def establishment_for_siret(siret: str) -> Establishment:
    """The establishment of `siret`, from the company registry (a network call: never inside a
    transaction). Refuses with the registry's message, on the "siret" field."""
    try:
        return registry.establishment_from_registry(siret)
    except registry.RegistryError as exc:
        raise BackofficeError(exc.message, field="siret") from exc


def register_centre(
    *, actor: User | None, siret: str, data: dict[str, Any], context: Context = SYSTEM
) -> Centre:
    """A new centre agréé from its SIRET: the registry is asked first (before any transaction),
    then `create_centre` registers it. Every refusal is on the "siret" field."""
    existing = Centre.objects.filter(establishment__siret=siret).first()
    if existing is not None:
        raise BackofficeError(
            f"Ce SIRET est déjà celui d’un centre agréé ({existing.letter_name}).", field="siret"
        )
    establishment = establishment_for_siret(siret)
    if not establishment.is_active:
        raise BackofficeError(registry.CLOSED_MESSAGE, field="siret")
    return create_centre(actor=actor, establishment=establishment, data=data, context=context)


@transaction.atomic
def create_centre(
    *,
    actor: User | None,
    establishment: Establishment,
    data: dict[str, Any],
    context: Context = SYSTEM,
) -> Centre:
    """Register `establishment` as a centre agréé. Letter name/address default to the registry's."""
    establishment = Establishment.objects.select_for_update().get(pk=establishment.pk)
    if not establishment.is_active:
        raise BackofficeError(
            "Cet établissement est fermé : il ne peut pas devenir centre agréé.", field="siret"
        )
    if Centre.objects.filter(establishment=establishment).exists():
        raise BackofficeError("Ce SIRET est déjà celui d’un centre agréé.", field="siret")
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
def update_centre(
    *, actor: User | None, centre: Centre, data: dict[str, Any], context: Context = SYSTEM
) -> Centre:
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
def close_centre(
    *, actor: User | None, centre: Centre, reason: str, context: Context = SYSTEM
) -> Centre:
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
    record_establishment_closed(ceres(), centre.establishment)  # CERES learns it (feed)
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
    emails = {centre.contact_email} if centre.contact_email else set()
    emails |= set(
        Habilitation.objects.active()
        .managing()
        .filter(demarche=ceres(), establishment=centre.establishment)
        .values_list("user__email", flat=True)
    )
    return sorted(emails)


def link_site(
    *,
    actor: User | None,
    centre: Centre,
    siret: str = "",
    label: str = "",
    address: str = "",
    context: Context = SYSTEM,
) -> LinkedSite:
    """A site lié, from its SIRET (the registry asked first, before the transaction) or from a
    label and an address alone."""
    establishment = establishment_for_siret(siret) if siret else None
    return add_linked_site(
        actor=actor,
        centre=centre,
        establishment=establishment,
        label=label,
        address=address,
        context=context,
    )


@transaction.atomic
def add_linked_site(
    *,
    actor: User | None,
    centre: Centre,
    establishment: Establishment | None = None,
    label: str = "",
    address: str = "",
    context: Context = SYSTEM,
) -> LinkedSite:
    centre = Centre.objects.select_for_update().get(pk=centre.pk)
    if establishment is not None:
        if establishment.pk == centre.establishment_id:
            raise BackofficeError("Ce SIRET est celui du centre lui-même.", field="siret")
        if centre.sites.filter(establishment=establishment).exists():
            raise BackofficeError("Ce site est déjà lié à ce centre.", field="siret")
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
def remove_linked_site(*, actor: User | None, site: LinkedSite, context: Context = SYSTEM) -> None:
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
    *,
    actor: User | None,
    demarche: Demarche,
    centres: Sequence[Centre],
    batch: LetterBatch,
    context: Context = SYSTEM,
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
    *,
    actor: User | None,
    centres: Sequence[Centre],
    source: str,
    description: str = "",
    context: Context = SYSTEM,
) -> GeneratedLetters:
    """Issue a new CERES code for each centre (revoking its previous unused one) and draw the
    letters, one page each, into one PDF. All or nothing: if the PDF fails, no code is issued.

    The clear codes live only in the returned PDF: they are neither stored nor journaled.
    """
    demarche = ceres()
    pks = [c.pk for c in centres]
    locked: list[Centre] = []
    for start in range(0, len(pks), CHUNK):
        locked += (
            Centre.objects.select_for_update(of=("self",))
            .select_related("establishment")
            .filter(pk__in=pks[start : start + CHUNK])
        )
    locked.sort(key=lambda c: (c.letter_name, c.pk))
    centres = locked
    if not centres:
        raise BackofficeError("Aucun centre sélectionné.")
    closed = [c for c in centres if c.closed_at is not None]
    if closed:
        raise BackofficeError(
            f"Le centre {closed[0].letter_name} est fermé : aucun nouveau code ne peut être émis."
        )
    sirets = [c.establishment.siret for c in centres]
    with_previous: set[str] = set()
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


def generate_selected_letters(
    *,
    actor: User | None,
    centres: QuerySet[Centre],
    centre_import: CentreImport | None,
    description: str,
    context: Context = SYSTEM,
) -> GeneratedLetters:
    """The letters of the open centres an agent selected (by a filter, or imported together)."""
    if not centres.exists():
        raise BackofficeError("Aucun centre ouvert ne correspond à cette sélection.")
    return generate_letters(
        actor=actor,
        centres=list(centres.only("pk")),
        source=LetterBatch.Source.IMPORT if centre_import else LetterBatch.Source.SELECTION,
        description=f"Import {centre_import.pk}" if centre_import else description,
        context=context,
    )


# --- Agents' second factor --------------------------------------------------------------------
# The database side of the agents' sign-in; the session side (password step, pending mark,
# rate limits, logging in) is `portail.backoffice.agent_auth`.

DEVICE_NAME = "Application d’authentification"
BAD_CODE = "Ce code n’est pas valide ou a déjà été utilisé. Saisissez le code affiché maintenant par votre application."
EXPIRED_STEP = "Votre saisie a expiré : recommencez la connexion."


class WrongCode(AgentLoginError):  # noqa: N818 -- a refusal, not an error of the program
    """The code did not verify (its failure is journaled and counts against the agent)."""


def confirmed_device(user: User) -> TOTPDevice | None:
    device: TOTPDevice | None = (
        TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()
    )
    return device


@transaction.atomic
def enrolment_device(user: User) -> TOTPDevice:
    """The unconfirmed device shown at first login (the same one on every reload)."""
    device: TOTPDevice | None = (
        TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    )
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
    return device


def check_agent_code(
    *, agent: User, token: str, enrolling: bool, context: Context = SYSTEM
) -> TOTPDevice:
    """Verify the agent's TOTP code (confirming the device at enrolment) and journal the login,
    or journal the failure — committed, not rolled back: the failure must count. Refuses with
    `WrongCode`, or `EXPIRED_STEP` when there is no device to check against."""
    token = "".join((token or "").split())
    with transaction.atomic():
        devices = TOTPDevice.objects.select_for_update().filter(user=agent, confirmed=not enrolling)
        device: TOTPDevice | None = devices.order_by("pk").first()
        # verify_token refuses a time step at or before `last_t`: a replayed code fails here.
        verified = bool(
            device is not None
            and token.isdigit()
            and len(token) == device.digits
            and device.verify_token(token)
        )
        if device is not None and verified:
            if enrolling:
                device.confirmed = True
                device.save(update_fields=["confirmed"])
                TOTPDevice.objects.filter(user=agent, confirmed=False).delete()
                record("backoffice.agent.otp_enrolled", actor=agent, target=agent, context=context)
            record("backoffice.agent.login", actor=agent, target=agent, context=context)
        else:
            record(
                "backoffice.agent.otp_failed",
                actor=agent,
                target=agent,
                context=context,
                data={"enrolling": enrolling},
            )
    if device is None:
        raise AgentLoginError(EXPIRED_STEP, field="code")
    if not verified:
        raise WrongCode(BAD_CODE, field="code")
    return device
