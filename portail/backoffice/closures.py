"""The portal's answer to an establishment found closed in the Sirene register (decision 0022).

The Sirene import (`portail.companies.sirene_import`) notes each establishment of the portal that
the register now says closed (`etatAdministratifEtablissement = F`) in `EstablishmentClosure`.
The back-office's housekeeping chore (also run by `import_sirene` at its end) handles each note
in its own transaction, with its journal event and its emails:

- the establishment is marked closed (`is_active`);
- every live habilitation on it, in every démarche, is suspended (reason "Établissement fermé
  (répertoire Sirene)"): the person keeps it, without access, until an agent or a gestionnaire
  decides (resumed if the register was wrong, revoked otherwise);
- when it is a centre agréé's own establishment, the centre is closed (`close_centre`: no more
  codes, the contact told); a closed site lié stays listed on its centre, marked closed;
- each person suspended, the gestionnaires who still manage the establishment, and the agents of
  the region (the centres' regions, else the region of its postcode) are told by email.
"""

import logging

from django.db import transaction
from django.db.models import Q
from django.utils import formats, timezone

from portail.audit.journal import record
from portail.backoffice.flows import close_centre
from portail.backoffice.models import AgentProfile
from portail.centres.departements import region_code_of_postcode
from portail.centres.models import Centre, Region
from portail.companies.models import Establishment, EstablishmentClosure
from portail.companies.siret import format_siret
from portail.core.context import SYSTEM, Context
from portail.habilitations.grants import suspend_habilitation
from portail.habilitations.models import Habilitation
from portail.habilitations.queries import gestionnaires_of
from portail.notifications.emails import send_email

logger = logging.getLogger(__name__)

REASON = "Établissement fermé au répertoire Sirene"


def handle_establishment_closures(limit: int = 200) -> int:
    """The chore: each waiting closure in its own transaction (one failing is logged and the
    others go on; it is tried again at the next run). Returns how many were handled."""
    waiting = list(
        EstablishmentClosure.objects.pending().order_by("pk").values_list("pk", flat=True)[:limit]
    )
    handled = 0
    for pk in waiting:
        try:
            handled += react_to_closure(pk)
        except Exception:
            logger.exception("Establishment closure %s could not be handled", pk)
    return handled


@transaction.atomic
def react_to_closure(closure_id: int, *, context: Context = SYSTEM) -> bool:
    """Handle one noted closure (see the module); False when it was already handled."""
    closure = (
        EstablishmentClosure.objects.select_for_update()
        .filter(pk=closure_id, handled_at__isnull=True)
        .first()
    )
    if closure is None:
        return False
    establishment = Establishment.objects.select_for_update().get(pk=closure.establishment_id)
    if establishment.is_active:
        establishment.is_active = False
        establishment.save(update_fields=["is_active"])

    suspended = [
        suspend_habilitation(
            actor=None,
            habilitation=habilitation,
            reason=Habilitation.Suspension.ESTABLISHMENT_CLOSED,
            context=context,
        )
        for habilitation in Habilitation.objects.live()
        .filter(establishment=establishment, suspended_at__isnull=True)
        .order_by("pk")
    ]
    suspended = list(
        Habilitation.objects.filter(pk__in=[h.pk for h in suspended])
        .select_related("user", "role", "demarche")
        .order_by("demarche__short_label", "user__last_name", "user__first_name", "pk")
    )

    own_centre = Centre.objects.filter(establishment=establishment, closed_at__isnull=True).first()
    if own_centre is not None:
        close_centre(actor=None, centre=own_centre, reason=REASON, context=context)
    centres = list(
        Centre.objects.filter(
            Q(establishment=establishment) | Q(sites__establishment=establishment)
        )
        .select_related("region")
        .distinct()
        .order_by("letter_name")
    )

    closed_on = formats.date_format(timezone.localdate(closure.detected_at), "j F Y")
    common = {
        "establishment": establishment,
        "siret": format_siret(establishment.siret),
        "closed_on": closed_on,
        "centres": centres,
    }
    notified: set[str] = set()
    for habilitation in suspended:
        email = habilitation.user.email
        if habilitation.user.is_active and email:
            send_email(
                "backoffice/emails/habilitation_suspended_closed",
                email,
                {**common, "habilitation": habilitation},
                category="habilitations",
                demarche=habilitation.demarche,
                establishment=establishment,
            )
            notified.add(email)

    demarches = {h.demarche_id: h.demarche for h in suspended}
    recipients: set[str] = set()
    for demarche in demarches.values():
        recipients |= {u.email for u in gestionnaires_of(demarche, establishment) if u.email}
    recipients |= set(_region_agents(establishment, centres))
    for email in sorted(recipients):
        send_email(
            "backoffice/emails/establishment_closed",
            email,
            {**common, "suspended": suspended},
            category="backoffice",
            establishment=establishment,
        )
    notified |= recipients

    closure.handled_at = timezone.now()
    closure.save(update_fields=["handled_at"])
    record(
        "backoffice.establishment.closed_in_sirene",
        actor=None,
        target=establishment,
        establishment=establishment,
        context=context,
        data={
            "siret": establishment.siret,
            "suspended": len(suspended),
            "centre_closed": own_centre is not None,
            "notified": len(notified),
        },
    )
    return True


def _region_agents(establishment: Establishment, centres: list[Centre]) -> list[str]:
    """The email addresses of the agents of the regions concerned: those of the centres that
    hold the establishment, else the region of its postcode."""
    region_ids = {centre.region_id for centre in centres}
    if not region_ids:
        code = region_code_of_postcode(establishment.postcode)
        region_ids = set(Region.objects.filter(code=code).values_list("pk", flat=True))
    return list(
        AgentProfile.objects.filter(regions__in=region_ids, user__is_active=True)
        .values_list("user__email", flat=True)
        .distinct()
    )
