"""The "Inviter un utilisateur" form (`_invite_form.html`), on its page and in the management
page's modal: the empty form rendered once per process for what it shows, then written as kept.

Empty (not sent, no search), the form depends only on the démarche, its roles, the open
establishments and the choices the form starts with: that is its key (`portail.core.fragments`).
What is the request's own is written in marks, then replaced: the CSRF token, the form's
submission key, the inviter's name (a mark given as safe text shows raw, where the same text in
a name would show escaped). A sent form or a search renders the template as before.
`tests/habilitations/test_invite_form_html.py` compares both, byte for byte.
"""

import copy
import uuid
from collections.abc import Callable, Hashable
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from portail.core.fragments import render_once

TEMPLATE = "habilitations/_invite_form.html"
CSRF_MARK = mark_safe("<csrf-token-mark>")
INVITER_MARK = mark_safe("<inviter-mark>")
SUBMISSION_KEY_MARK = uuid.UUID("5f0c1d2e-3b4a-4c5d-8e6f-7a8b9c0d1e2f")  # no real key is this


def empty_context(
    *,
    demarche: Any,
    roles: list[Any],
    establishments: list[Any],
    inviter: str,
    autocomplete_url: str,
    make_form: Callable[[], Any],
) -> dict[str, Any]:
    """What `InviteForm.template_context` says of an empty form, without making one: the form
    (`make_form()`) is made only to render the kept fragment the first time."""
    return {
        "demarche": demarche,
        "roles": roles,
        "establishments": establishments,
        "chosen_role": "",
        "chosen_siret": "",
        "summary_role": "…",
        "summary_company": "…",
        "summary_establishment": "",
        "inviter": inviter,
        "kind": "colleague",
        "autocomplete_url": autocomplete_url,
        "candidates": [],
        "searched": False,
        "make_form": make_form,
        "submission_key": uuid.uuid4(),
    }


def _initial(form: Any) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((k, str(v)) for k, v in form.initial.items() if k != "submission_key"))


def _key(context: dict[str, Any]) -> Hashable:
    """Every value the empty form shows, but the marked ones."""
    demarche, form = context["demarche"], context.get("form")
    return (
        demarche.code,
        demarche.short_label,
        context["autocomplete_url"],
        tuple((role.pk, role.label, role.description) for role in context["roles"]),
        tuple((e.siret, e.name, e.siret_and_commune) for e in context["establishments"]),
        context["chosen_role"],
        context["chosen_siret"],
        context["summary_role"],
        context["summary_company"],
        context["summary_establishment"],
        _initial(form) if form is not None else (),
    )


def _marked(context: dict[str, Any]) -> dict[str, Any]:
    """`context` with the marks in place of the request's own values."""
    form = copy.copy(context["form"]) if "form" in context else context["make_form"]()
    form.initial = {**form.initial, "submission_key": SUBMISSION_KEY_MARK}
    form._bound_fields_cache = {}
    return context | {
        "form": form,
        "csrf_token": CSRF_MARK,
        "inviter": INVITER_MARK,
        "searched": False,
        "SERVICE_NAME": settings.SERVICE_NAME,
    }


def rendered(request: HttpRequest, context: dict[str, Any]) -> SafeString:
    """`_invite_form.html` for `context`: `InviteForm.template_context`'s with `autocomplete_url`,
    `candidates` and `searched`, or `empty_context`'s."""
    form = context.get("form")
    token = get_token(request)
    if form is not None and (form.is_bound or context["searched"] or context["candidates"]):
        return SafeString(
            render_to_string(
                TEMPLATE,
                context | {"csrf_token": token, "SERVICE_NAME": settings.SERVICE_NAME},
            )
        )
    kept = render_once(TEMPLATE, _key(context), lambda: _marked(context))
    submission_key = context["submission_key"] if form is None else form["submission_key"].value()
    return SafeString(
        kept.replace(CSRF_MARK, token)
        .replace(str(SUBMISSION_KEY_MARK), str(submission_key))
        .replace(INVITER_MARK, escape(context["inviter"]))
    )
