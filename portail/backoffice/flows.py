"""State changes of the back-office: one function each, taking the acting agent.

Each runs in one transaction, locks what it changes, writes its audit event (with the agent's
identity) and queues its emails. Views only parse input and call these.
"""

import io
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from portail.audit.journal import record
from portail.backoffice.letters import LetterContent, render_letters
from portail.backoffice.models import Centre, Letter, LetterBatch, LinkedSite
from portail.companies.models import Establishment
from portail.demarches.codes import issue_activation_code
from portail.demarches.models import ActivationCode, Demarche

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
def create_centre(*, actor, establishment: Establishment, data: dict, request=None) -> Centre:
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
        request=request,
        data={"siret": establishment.siret, "region": centre.region.code},
    )
    return centre


EDITABLE = (
    "region",
    "agrement_reference",
    "agrement_date",
    "contact_email",
    "letter_name",
    "letter_address",
)


@transaction.atomic
def update_centre(*, actor, centre: Centre, data: dict, request=None) -> Centre:
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
            request=request,
            data={"fields": changed},
        )
    return centre


@transaction.atomic
def close_centre(*, actor, centre: Centre, reason: str, request=None) -> Centre:
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
    record(
        "backoffice.centre.closed",
        actor=actor,
        target=centre,
        establishment=centre.establishment,
        request=request,
        data={"reason": reason, "codes_revoked": revoked},
    )
    return centre


@transaction.atomic
def add_linked_site(
    *, actor, centre: Centre, establishment=None, label="", address="", request=None
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
        request=request,
        data={"siret": establishment.siret if establishment else "", "label": site.label},
    )
    return site


@transaction.atomic
def remove_linked_site(*, actor, site: LinkedSite, request=None) -> None:
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
        request=request,
        data={"label": str(site)},
    )
    site.delete()


# --- Letters -------------------------------------------------------------------------------


@dataclass
class GeneratedLetters:
    batch: LetterBatch
    pdf: bytes


@transaction.atomic
def generate_letters(
    *, actor, centres, source: str, description: str = "", request=None
) -> GeneratedLetters:
    """Issue a new CERES code for each centre (revoking its previous unused one) and draw the
    letters, one page each, into one PDF. All or nothing: if the PDF fails, no code is issued.

    The clear codes live only in the returned PDF: they are neither stored nor journaled.
    """
    demarche = ceres()
    centres = list(
        Centre.objects.select_for_update(of=("self",))
        .select_related("establishment")
        .filter(pk__in=[c.pk for c in centres])
        .order_by("letter_name", "pk")
    )
    if not centres:
        raise BackofficeError("Aucun centre sélectionné.")
    closed = [c for c in centres if c.closed_at is not None]
    if closed:
        raise BackofficeError(
            f"Le centre {closed[0].letter_name} est fermé : aucun nouveau code ne peut être émis."
        )
    sirets = [c.establishment.siret for c in centres]
    with_previous = set(
        ActivationCode.objects.filter(
            demarche=demarche, siret__in=sirets, used_at__isnull=True, revoked_at__isnull=True
        ).values_list("siret", flat=True)
    )
    batch = LetterBatch.objects.create(
        source=source, description=description[:255], created_by=actor, letter_count=len(centres)
    )
    contents: list[LetterContent] = []
    letters: list[Letter] = []
    for centre in centres:
        siret = centre.establishment.siret
        code_row, clear = issue_activation_code(
            actor=actor,
            demarche=demarche,
            siret=siret,
            establishment=centre.establishment,
            request=request,
        )
        letters.append(
            Letter(
                centre=centre,
                batch=batch,
                activation_code=code_row,
                issued_by=actor,
                issued_at=code_row.issued_at,
                revoked_previous=siret in with_previous,
            )
        )
        contents.append(LetterContent(centre.letter_name, centre.letter_address, siret, clear))
    Letter.objects.bulk_create(letters, batch_size=1000)
    batch.revoked_count = sum(1 for letter in letters if letter.revoked_previous)
    batch.save(update_fields=["revoked_count"])
    record(
        "backoffice.letters.generated",
        actor=actor,
        target=batch,
        demarche=demarche,
        establishment=centres[0].establishment if len(centres) == 1 else None,
        request=request,
        data={
            "batch": batch.pk,
            "letters": len(letters),
            "revoked_previous": batch.revoked_count,
            "source": source,
        },
    )
    out = io.BytesIO()
    render_letters(contents, out)
    return GeneratedLetters(batch=batch, pdf=out.getvalue())
