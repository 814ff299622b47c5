"""The agents hear of a dormant account that is the last gestionnaire of a démarche somewhere.

`portail.accounts.dormancy` sends `dormant_sole_gestionnaire` before it deactivates such an
account; this receiver (connected in the app's config) emails the agents of the region of each
establishment concerned, so that they can find another gestionnaire before the account is
deactivated. The region of an establishment: that of its centre agréé, of the centres that hold it
as a site lié, else that of its postcode's département. No agent for that region: the national
agents are told. Returns how many agents were emailed (each once, whatever the count of
habilitations).
"""

from collections import defaultdict
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.urls import reverse
from django.utils import formats, timezone

from portail.accounts.models import User
from portail.backoffice.models import AgentProfile
from portail.centres.departements import region_code_of_postcode
from portail.centres.models import Centre, Region
from portail.habilitations.models import Habilitation
from portail.notifications.emails import send_email


def regions_of(habilitation: Habilitation) -> set[int]:
    establishment = habilitation.establishment
    centres = Centre.objects.filter(
        Q(establishment=establishment) | Q(sites__establishment=establishment)
    ).values_list("region_id", flat=True)
    regions = set(centres)
    if not regions:
        code = region_code_of_postcode(establishment.postcode or "")
        if code:
            regions = set(Region.objects.filter(code=code).values_list("pk", flat=True))
    return regions


def agents_for(habilitation: Habilitation) -> list[AgentProfile]:
    active = AgentProfile.objects.filter(user__is_active=True).select_related("user")
    regional = list(active.filter(regions__in=regions_of(habilitation)).distinct().order_by("pk"))
    return regional or list(active.filter(is_national=True).order_by("pk"))


def warn_agents(
    sender: Any,
    user: User,
    habilitations: list[Habilitation],
    deactivation_on: datetime,
    **kwargs: Any,
) -> int:
    """Email each agent concerned once, listing the démarches and establishments left without
    another gestionnaire."""
    per_agent: dict[int, tuple[AgentProfile, list[Habilitation]]] = {}
    lists: defaultdict[int, list[Habilitation]] = defaultdict(list)
    for habilitation in habilitations:
        for agent in agents_for(habilitation):
            per_agent.setdefault(agent.pk, (agent, lists[agent.pk]))
            lists[agent.pk].append(habilitation)
    support_link = settings.PORTAL_BASE_URL + reverse(
        "backoffice:support_account", args=[user.public_id]
    )
    for agent, theirs in per_agent.values():
        send_email(
            "backoffice/emails/dormant_gestionnaire",
            agent.user.email,
            {
                "agent": agent.user,
                "person": user,
                "months": round(int(settings.DORMANT_ACCOUNT_DAYS) / 30.4),
                "habilitations": theirs,
                "deactivation_on": formats.date_format(
                    timezone.localdate(deactivation_on), "j F Y"
                ),
                "support_link": support_link,
            },
            category="backoffice",
            demarche=theirs[0].demarche,
            establishment=theirs[0].establishment,
        )
    return len(per_agent)
