"""The audit event and the emails of a change about an invitation, a habilitation or an access
request: each names its démarche and its establishment the same way (by the row's own).

The flows call these inside their transaction, so that the change, its journal line and its
emails commit together (docs/architecture.md, "A state change").
"""

from typing import TYPE_CHECKING, Any

from portail.audit.journal import record
from portail.core.context import Context
from portail.habilitations.models import AccessRequest, Habilitation, Invitation
from portail.notifications.emails import send_email

if TYPE_CHECKING:
    from portail.accounts.models import User

About = Invitation | Habilitation | AccessRequest

CATEGORIES: dict[type[About], str] = {
    Invitation: "invitation",
    Habilitation: "habilitation",
    AccessRequest: "access_request",
}


def journal(
    action: str, about: About, actor: "User | None", context: Context, data: dict[str, Any]
) -> None:
    """Write the audit event `action` about the row `about`."""
    record(
        action,
        actor=actor,
        target=about,
        demarche=about.demarche,
        establishment=about.establishment,
        context=context,
        data=data,
    )


def email(about: About, template: str, to: str, data: dict[str, Any]) -> None:
    """Queue the email `template` (a name in habilitations/emails/) to `to` about `about`."""
    send_email(
        f"habilitations/emails/{template}",
        to,
        data,
        category=CATEGORIES[type(about)],
        demarche=about.demarche,
        establishment=about.establishment,
    )
