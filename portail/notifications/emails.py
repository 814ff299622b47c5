"""The one way to send an email: `send_email(...)` writes an outbox row in the caller's transaction.

(`queue_rendered` queues one already rendered: `portail.notifications.kept_email`'s.)
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
    return trimmed(*rendered_parts(template, context))


def rendered_parts(template: str, context: Mapping[str, Any]) -> tuple[str, str, str]:
    """The three templates as rendered, before `trimmed`."""
    context = {
        "SERVICE_NAME": settings.SERVICE_NAME,
        "PORTAL_BASE_URL": settings.PORTAL_BASE_URL,
        **context,
    }
    return (
        render_to_string(f"{template}_subject.txt", context),
        render_to_string(f"{template}.txt", context),
        render_to_string(f"{template}.html", context),
    )


def trimmed(subject: str, text: str, html: str) -> tuple[str, str, str]:
    """The subject on one line after its prefix, the text without blank lines around it."""
    return settings.EMAIL_SUBJECT_PREFIX + " ".join(subject.split()), text.strip() + "\n", html


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
    return queue_rendered(
        template,
        to,
        render_email(template, context),
        category=category,
        demarche=demarche,
        establishment=establishment,
    )


def queue_rendered(
    template: str,
    to: str,
    rendered: tuple[str, str, str],
    *,
    category: str,
    demarche: Model | None = None,
    establishment: Model | None = None,
) -> OutboxEmail:
    """`send_email` of an email already rendered: (subject, text, html)."""
    subject, text, html = rendered
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
