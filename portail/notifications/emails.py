"""The one way to send an email: `send_email(...)` writes an outbox row in the caller's transaction.

Templates come by three, side by side: `<name>_subject.txt`, `<name>.txt`, `<name>.html`.
A rolled-back change sends nothing; the worker (`manage.py run_email_worker`) delivers after commit.
"""

from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.db.models import Model
from django.template.loader import render_to_string

from portail.core.plain_insert import insert
from portail.notifications.models import OutboxEmail


def render_email(template: str, context: Mapping[str, Any]) -> tuple[str, str, str]:
    """Render (subject, text, html) from `template` + the three suffixes."""
    context = {
        "SERVICE_NAME": settings.SERVICE_NAME,
        "PORTAL_BASE_URL": settings.PORTAL_BASE_URL,
        **context,
    }
    rendered_subject = render_to_string(f"{template}_subject.txt", context)
    subject = settings.EMAIL_SUBJECT_PREFIX + " ".join(rendered_subject.split())
    text = render_to_string(f"{template}.txt", context).strip() + "\n"
    html = render_to_string(f"{template}.html", context)
    return subject, text, html


def send_email(
    template: str,
    to: str,
    context: Mapping[str, Any],
    *,
    category: str,
    demarche: Model | None = None,
    establishment: Model | None = None,
) -> OutboxEmail:
    """Queue an email. `demarche` and `establishment` are the rows it is about (the "Historique
    des messages" of the gestionnaire's page lists it under them); the outbox keeps their ids."""
    subject, text, html = render_email(template, context)
    email = OutboxEmail(
        recipient=to,
        subject=subject[:255],
        body_text=text,
        body_html=html,
        category=category,
        template=template,
        demarche_id=demarche.pk if demarche is not None else None,
        establishment_id=establishment.pk if establishment is not None else None,
    )
    insert(email)  # what `objects.create` does, without compiling the INSERT each time
    return email
