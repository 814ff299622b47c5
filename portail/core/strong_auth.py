"""How the person of this session signed in, and the second-factor rule of the pages below.

The session remembers the methods used at login (`amr`, RFC 8176: "pwd", "otp", "hwk", "mfa")
and when a second factor was last checked: the OpenID Connect provider puts them in the ID token,
and a sensitive action asks for the factor again when that check is older than
`STEP_UP_SECONDS` (step-up). Accounts write them (`record_factor`); the apps below accounts
(habilitations) read them here, with `has_second_factor`, a hook the accounts app registers in
its `AppConfig.ready()` (the factors' tables are accounts'). The pages that enrol a factor or
check it again are accounts' (`accounts:mfa`, `accounts:step_up`), named here by URL only.
"""

import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse

STEP_UP_SECONDS = 15 * 60
AUTH_KEY = "portail_auth_methods"

_lookup: list[Callable[[Any], bool]] = []


def register_factor_lookup(lookup: Callable[[Any], bool]) -> None:
    """Accounts says whether a user has a second factor (called in its AppConfig.ready())."""
    _lookup[:] = [lookup]


def has_second_factor(user: Any) -> bool:
    return bool(_lookup) and _lookup[0](user)


FACTOR_METHODS = {"pwd", "otp", "hwk", "swk", "user", "pin", "fpt"}


def _with_mfa(methods: list[str]) -> list[str]:
    methods = list(dict.fromkeys(m for m in methods if m != "mfa"))
    # RFC 8176: "mfa" when more than one kind of factor was used (a password and a code, a key
    # and the gesture that unlocked it).
    return [*methods, "mfa"] if len(FACTOR_METHODS & set(methods)) > 1 else methods


def record_login(request: HttpRequest, amr: list[str], *, factor: bool) -> None:
    """Remember how the person just signed in; `factor`: a second factor was checked."""
    state: dict[str, Any] = {"amr": _with_mfa(amr), "auth_at": time.time()}
    if factor:
        state["factor_at"] = time.time()
    request.session[AUTH_KEY] = state


def record_step_up(request: HttpRequest, method: str) -> None:
    """A factor checked again (or enrolled) during the session."""
    state = dict(request.session.get(AUTH_KEY) or {"amr": ["pwd"]})
    state["amr"] = _with_mfa([*state.get("amr", []), method])
    state["factor_at"] = time.time()
    request.session[AUTH_KEY] = state


def amr_of(request: HttpRequest) -> list[str]:
    """The methods of this session's login; ["pwd"] for a session from before they were kept."""
    methods: list[str] = (request.session.get(AUTH_KEY) or {}).get("amr") or ["pwd"]
    return methods


def authenticated_at(request: HttpRequest) -> float | None:
    """When the person of this session last typed their password or used their key."""
    at: float | None = (request.session.get(AUTH_KEY) or {}).get("auth_at")
    return at


def factor_checked_at(request: HttpRequest) -> float | None:
    at: float | None = (request.session.get(AUTH_KEY) or {}).get("factor_at")
    return at


def factor_is_fresh(request: HttpRequest, max_age: float = STEP_UP_SECONDS) -> bool:
    at = factor_checked_at(request)
    return at is not None and time.time() - at <= max_age


def _redirect(name: str, next_url: str) -> HttpResponseRedirect:
    return HttpResponseRedirect(f"{reverse(name)}?{urlencode({'next': next_url})}")


def strong_auth_redirect(
    request: HttpRequest, *, required: bool, step_up: bool, next_url: str = ""
) -> HttpResponseRedirect | None:
    """Where to send the person before this page, when it `required` a second factor: enrolment
    (none yet), then a fresh check (`step_up`: a sensitive action, last check too old); None to
    go on. `next_url` is where to come back (this page by default)."""
    if not required:
        return None
    next_url = next_url or request.get_full_path()
    if not has_second_factor(request.user):
        return _redirect("accounts:mfa", next_url)
    if step_up and not factor_is_fresh(request):
        return _redirect("accounts:step_up", next_url)
    return None
