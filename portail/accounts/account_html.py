""" "Mon compte" rendered once per process for each variant, with marks in place of the person's
values, then filled in (`portail.core.marked`).

The page is the frame, four fields and the account's details: what changes from one person to
the next is a handful of values (the names, the address, the phone number, the declared
establishment, the CSRF token and the CSP nonce), each shown as it is. What changes the page's
shape is the variant's key: the civility chosen, the account's type, which values are empty, an
establishment verified or not, whether the nonce was already asked for. A page with messages,
a form sent back with its errors, or the template engine's `debug` on is rendered in full.

The first page of each variant is also rendered in full and compared: should they differ (a value
the template changes, such as a name with spaces around it), that variant is rendered in full
from then on (logged). `tests/accounts/test_account_html.py` compares both, byte for byte.
"""

import copy
import logging
from collections.abc import Hashable
from threading import Lock
from typing import Any

from csp.middleware import CheckableLazyObject
from django.conf import settings
from django.contrib.messages import get_messages
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.template import engines

from portail.accounts.forms import ProfileForm
from portail.accounts.models import User
from portail.core.marked import Pieces, join, marks, pieces

logger = logging.getLogger(__name__)

TEMPLATE = "accounts/account.html"
TITLE = "Mon compte"
# The values put in with marks, in this order (`join`'s values).
MARKED = ("csrf", "nonce", "email", "first_name", "last_name", "phone", "company", "siret")
_MARKS = marks(MARKED)

MAX_KEPT = 256  # variants: civilities × types × empty values, a few dozen at most
_kept: dict[Hashable, Pieces | None] = {}  # None: rendered in full (they differed)
_lock = Lock()


def forget() -> None:
    with _lock:
        _kept.clear()


def account_page(request: HttpRequest, user: User, initial: dict[str, Any]) -> HttpResponse:
    """ "Mon compte" with its form empty of errors: `ProfileForm(initial=initial)` (its phone
    number as shown), as `render` would write it."""
    if engines["django"].engine.debug or len(get_messages(request)):  # type: ignore[attr-defined]
        return _full(request, user, initial)
    nonce = request.csp_nonce  # type: ignore[attr-defined]  # django-csp's
    values = [
        get_token(request),
        "",  # the nonce: asked for below, where the template asks for it
        user.email,
        initial["first_name"] or "",
        initial["last_name"] or "",
        initial["phone"] or "",
        user.declared_company_name,
        user.declared_siret,
    ]
    key = (
        bool(nonce),  # asked for before the page: DSFR's scripts carry it too
        initial["civilite"],
        user.account_type,
        user.establishment_verified,
        tuple(bool(value) for value in values[2:]),
        tuple(value == value.strip() for value in values[3:5]),  # a full name is stripped
        settings.SERVICE_NAME,
        settings.SERVICE_TAGLINE,
        settings.ENVIRONMENT,
        settings.APP_VERSION,
    )
    with _lock:
        known = key in _kept
        kept = _kept.get(key)
    if kept is not None:
        values[1] = str(nonce)
        return HttpResponse(join(kept, values))
    if known:
        return _full(request, user, initial)
    return _first(request, user, initial, key, values)


def _full(
    request: HttpRequest, user: User, initial: dict[str, Any], token: str | None = None
) -> HttpResponse:
    context = {"title": TITLE, "profile_form": ProfileForm(initial=initial), "account": user}
    if token is not None:  # the one drawn for the marked page (each draw masks it anew)
        context["csrf_token"] = token
    return render(request, TEMPLATE, context)


def _first(
    request: HttpRequest, user: User, initial: dict[str, Any], key: Hashable, values: list[str]
) -> HttpResponse:
    """The variant rendered with marks, kept if it joins into the same page as in full."""
    marked_request = copy.copy(request)
    marked_nonce = CheckableLazyObject(lambda: _MARKS["nonce"])
    if request.csp_nonce:  # type: ignore[attr-defined]
        str(marked_nonce)
    marked_request.csp_nonce = marked_nonce  # type: ignore[attr-defined]
    account = copy.copy(user)
    shown = dict(zip(MARKED, values, strict=True))
    for field, name in (
        ("email", "email"),
        ("first_name", "first_name"),
        ("last_name", "last_name"),
        ("declared_company_name", "company"),
        ("declared_siret", "siret"),
    ):
        if shown[name]:
            setattr(account, field, _MARKS[name])
    marked_initial = dict(initial)
    for name in ("first_name", "last_name", "phone"):
        if shown[name]:
            marked_initial[name] = _MARKS[name]
    context = {
        "title": TITLE,
        "profile_form": ProfileForm(initial=marked_initial),
        "account": account,
        "user": account,
        "csrf_token": _MARKS["csrf"],
    }
    kept = pieces(render(marked_request, TEMPLATE, context).content.decode())
    full = _full(request, user, initial, values[0])
    values[1] = str(request.csp_nonce)  # type: ignore[attr-defined]  # asked for by the page
    if join(kept, values) != full.content.decode():
        logger.warning("%s: its kept rendering differs, rendered in full", TEMPLATE)
        kept_or_none: Pieces | None = None
    else:
        kept_or_none = kept
    with _lock:
        if len(_kept) >= MAX_KEPT:  # bounded: variants are few, this never happens
            _kept.clear()
        _kept[key] = kept_or_none
    return full
