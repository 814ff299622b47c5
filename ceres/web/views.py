"""CERES' pages: landing, "Choisir l'établissement", refusal, and the end of the sign-in."""

import logging
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

import requests
from django.conf import settings
from django.contrib import auth
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.models import User
from django.core.exceptions import SuspiciousOperation
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView

from ceres.web import sign_in
from ceres.web.auth import (
    ESTABLISHMENT_KEY,
    HABILITATIONS_KEY,
    SUSPENDED_KEY,
    signed_in_with_mfa,
)
from ceres.web.roles import with_portal_changes

log = logging.getLogger(__name__)

TITLE = "CERES — Certifications Emplois"

# One establishment of the portal's `habilitations` claim: siret, name, commune, address,
# sites_lies, roles.
Habilitation = dict[str, Any]


def siret_display(siret: str) -> str:
    """'90310000600019' → '903 100 006 00019' (as INSEE prints it)."""
    if len(siret) != 14 or not siret.isdigit():
        return siret
    return f"{siret[:3]} {siret[3:6]} {siret[6:9]} {siret[9:]}"


def _ends_on(role: dict[str, Any]) -> str:
    """'31/12/2026' for a delegated role (the claim's `ends_at`, in the portal's time), else ''."""
    ends_at = role.get("ends_at")
    if not ends_at:
        return ""
    try:
        return datetime.fromisoformat(str(ends_at)).strftime("%d/%m/%Y")
    except ValueError:
        return ""


def _shown(habilitation: Habilitation) -> Habilitation:
    """The claim's entry with what a page shows of it: the SIRET as printed, delegations' ends."""
    return {
        **habilitation,
        "siret_display": siret_display(str(habilitation.get("siret", ""))),
        "roles": [{**role, "ends_on": _ends_on(role)} for role in habilitation.get("roles", [])],
    }


class SignedInRequest(HttpRequest):
    """A request past LoginRequiredMiddleware (every view not marked login_not_required)."""

    user: User


def _habilitations(request: HttpRequest) -> list[Habilitation]:
    habilitations: list[Habilitation] = request.session.get(HABILITATIONS_KEY) or []
    # The portal's pushed changes since the claim was read win over it (ceres.web.feed).
    return with_portal_changes(request, habilitations)


def _selected(request: HttpRequest, habilitations: list[Habilitation]) -> Habilitation | None:
    if len(habilitations) == 1:
        return habilitations[0]
    siret = request.session.get(ESTABLISHMENT_KEY)
    return next((h for h in habilitations if h.get("siret") == siret), None)


def home(request: SignedInRequest) -> HttpResponse:
    habilitations = _habilitations(request)
    if not habilitations:
        return render(
            request,
            "ceres/refused.html",
            {
                "title": "Accès refusé",
                "person": request.user.get_full_name(),
                "suspended": request.session.get(SUSPENDED_KEY) or [],
            },
            status=403,
        )
    establishment = _selected(request, habilitations)
    if establishment is None:
        return redirect("ceres_web:choose_establishment")
    establishment = _shown(establishment)
    roles = establishment["roles"]
    return render(
        request,
        "ceres/home.html",
        {
            "title": TITLE,
            "person": request.user.get_full_name() or request.user.email,
            "establishment": establishment,
            "sites": establishment.get("sites_lies", []),
            "roles": roles,
            "is_gestionnaire": any(r.get("gestionnaire") for r in roles),
            "management_url": settings.PORTAL_MANAGEMENT_URL,
            "can_change": len(habilitations) > 1,
        },
    )


def management(request: SignedInRequest) -> HttpResponse:
    """ "Fonctions de gestionnaire": for the gestionnaires of the chosen establishment, signed
    in at the portal with a second factor. Without it, CERES asks the portal for it
    (acr_values) and comes back here once; still without it, the page is refused."""
    establishment = _selected(request, _habilitations(request))
    if establishment is None:
        return redirect("ceres_web:home")
    establishment = _shown(establishment)
    if not any(role.get("gestionnaire") for role in establishment["roles"]):
        return render(
            request,
            "ceres/management_refused.html",
            {"title": "Accès refusé", "reason": "role"},
            status=403,
        )
    if not signed_in_with_mfa(request):
        if request.GET.get("verifie") == "1":  # back from the portal, still without it
            return render(
                request,
                "ceres/management_refused.html",
                {"title": "Double authentification requise", "reason": "mfa"},
                status=403,
            )
        back = f"{reverse('ceres_web:management')}?verifie=1"
        query = urlencode({"next": back, "mfa": "1"})
        return redirect(f"{reverse('oidc_authentication_init')}?{query}")
    return render(
        request,
        "ceres/management.html",
        {
            "title": "Fonctions de gestionnaire",
            "establishment": establishment,
            "management_url": settings.PORTAL_MANAGEMENT_URL,
        },
    )


@require_http_methods(["GET", "POST"])
def choose_establishment(request: HttpRequest) -> HttpResponse:
    habilitations = _habilitations(request)
    if not habilitations:
        return redirect("ceres_web:home")
    error = ""
    selected = request.session.get(ESTABLISHMENT_KEY, "")
    if request.method == "POST":
        selected = request.POST.get("siret", "")
        if any(h.get("siret") == selected for h in habilitations):
            request.session[ESTABLISHMENT_KEY] = selected
            return redirect("ceres_web:home")
        error = "Choisissez l’un de vos établissements."
    return render(
        request,
        "ceres/choose.html",
        {
            "title": "Choisir l'établissement",
            "habilitations": [_shown(h) for h in habilitations],
            "selected": selected,
            "error": error,
        },
        status=400 if error else 200,
    )


@login_not_required
def logged_out(request: HttpRequest) -> HttpResponse:
    return render(request, "ceres/logged_out.html", {"title": "Vous êtes déconnecté"})


@login_not_required
def login_failed(request: HttpRequest) -> HttpResponse:
    return render(request, "ceres/login_failed.html", {"title": "Connexion impossible"}, status=400)


class CallbackView(OIDCAuthenticationCallbackView):
    """The end of the sign-in at the portal, with a clear page for each failure and no session.

    - state unknown, ID token forged or expired, userinfo about someone else: 400, signed out;
    - the portal refuses the code (replayed, expired: invalid_grant): 400, signed out;
    - the silent re-check finds the portal session over (login_required): a normal sign-in.
    """

    def get(self, request: HttpRequest) -> HttpResponse:
        if request.GET.get("error") == "login_required":
            next_url = request.session.get("oidc_login_next") or reverse("ceres_web:home")
            auth.logout(request)
            query = urlencode({"next": next_url})
            return redirect(f"{reverse('oidc_authentication_init')}?{query}")
        try:
            if "code" in request.GET and "state" in request.GET and not request.GET.get("error"):
                return self._exchanged(request)
            response: HttpResponse = super().get(request)
            return response
        except (SuspiciousOperation, requests.RequestException) as exc:
            # The reason, never a token: our SuspiciousOperation messages name the check that
            # failed; an HTTP error's text would hold the portal's answer, so only its type.
            reason = str(exc) if isinstance(exc, SuspiciousOperation) else type(exc).__name__
            log.warning("Sign-in refused: %s", reason)
            auth.logout(request)
            return render(
                request,
                "ceres/login_failed.html",
                {"title": "Connexion impossible"},
                status=400,
            )

    def _exchanged(self, request: HttpRequest) -> HttpResponse:
        """mozilla-django-oidc's code branch with the session read and saved once.

        mozilla-django-oidc saves the session as soon as the state is taken out, then reads it
        again after the exchange (for a sign-in started in another tab meanwhile): two more
        writes and a read at every sign-in. Here the state is taken out of the session once, for
        good (it is saved at the end of the request, under the new key the login draws; a failed
        sign-in flushes the session), and the portal spends the code once whatever happens."""
        states = request.session.get("oidc_states")
        if not isinstance(states, dict):
            response: HttpResponse = self.login_failure()
            return response
        state = request.GET["state"]
        if state not in states:
            raise SuspiciousOperation("OIDC callback state not found in session `oidc_states`!")
        started = states.pop(state)
        request.session.modified = True
        self.user = auth.authenticate(
            request=request, nonce=started["nonce"], code_verifier=started.get("code_verifier")
        )
        if self.user and self.user.is_active:
            signed_in: HttpResponse = self.login_success()
            return signed_in
        failed: HttpResponse = self.login_failure()
        return failed

    def login_success(self) -> HttpResponse:
        response: HttpResponse = sign_in.committed_once(super().login_success)
        return response
