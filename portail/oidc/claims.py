"""The claims the portal gives a démarche about a person.

`habilitations` lists, for the calling démarche only, each establishment where the person holds a
live habilitation, with its sites liés and the person's roles there. A démarche is identified by
its OIDC client (`Demarche.oidc_client_id`): a client never learns about another démarche.
`habilitations_suspendues` lists the suspended ones apart, with their reason, so that the
démarche can tell the person why it refuses them.
"""

from typing import TYPE_CHECKING, Any

from django.utils import timezone

from portail.centres.perimeter import linked_sites_of
from portail.companies.models import Establishment
from portail.habilitations.models import Habilitation
from portail.oidc import claim_rows

if TYPE_CHECKING:
    from portail.accounts.models import User


def _sites_lies(establishment: Establishment) -> list[dict[str, Any]]:
    sites = []
    for site in linked_sites_of(establishment):
        linked = site.establishment
        sites.append(
            {
                "siret": linked.siret if linked else None,
                "name": site.label or (linked.name if linked else ""),
                "address": site.address
                or (f"{linked.address}, {linked.commune_line}".strip(", ") if linked else ""),
            }
        )
    return sites


def live_habilitations(user: "User", client_id: str) -> list[Habilitation]:
    """The person's live habilitations in the démarche of `client_id`, suspended ones included:
    one statement (portail.oidc.claim_rows) plus one for the sites liés. Both claims are made
    from it (the validator reads it once per answer)."""
    if not client_id or not user.is_active:
        return []
    return claim_rows.live_habilitations(user.pk, client_id)


def habilitations_claim(
    user: "User", client_id: str, rows: list[Habilitation] | None = None
) -> list[dict[str, Any]]:
    """[{siret, name, commune, address, sites_lies: [{siret, name, address}],
    roles: [{code, label, gestionnaire, ends_at}]}]; `ends_at`: when a delegation ends (ISO 8601,
    Paris time), else None."""
    by_siret: dict[str, dict[str, Any]] = {}
    if rows is None:
        rows = live_habilitations(user, client_id)
    for habilitation in rows:
        if habilitation.suspended_at is not None:
            continue
        establishment = habilitation.establishment
        entry = by_siret.get(establishment.siret)
        if entry is None:
            entry = by_siret[establishment.siret] = {
                "siret": establishment.siret,
                "name": establishment.name,
                # Two sites of a company share its name: the commune tells them apart.
                "commune": establishment.commune,
                "address": f"{establishment.address}, {establishment.commune_line}".strip(", "),
                "sites_lies": _sites_lies(establishment),
                "roles": [],
            }
        role = habilitation.role
        if all(r["code"] != role.code for r in entry["roles"]):
            ends_at = habilitation.ends_at
            entry["roles"].append(
                {
                    "code": role.code,
                    "label": role.label,
                    "gestionnaire": role.can_manage,
                    "ends_at": timezone.localtime(ends_at).isoformat() if ends_at else None,
                }
            )
    return list(by_siret.values())


def suspended_habilitations_claim(
    user: "User", client_id: str, rows: list[Habilitation] | None = None
) -> list[dict[str, Any]]:
    """[{siret, name, role: {code, label}, reason, reason_label, since}], `since` in ISO 8601
    (Paris time): the person's suspended habilitations in the calling démarche."""
    if rows is None:
        rows = live_habilitations(user, client_id)
    suspended = [h for h in rows if h.suspended_at is not None]
    return [
        {
            "siret": h.establishment.siret,
            "name": h.establishment.name,
            "role": {"code": h.role.code, "label": h.role.label},
            "reason": h.suspension_reason,
            "reason_label": h.get_suspension_reason_display(),
            "since": timezone.localtime(h.suspended_at).isoformat() if h.suspended_at else None,
        }
        for h in suspended
    ]
