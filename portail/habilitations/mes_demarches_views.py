"""The person's pages: "Mes démarches", "Ajouter une démarche" and its two ways in (activation
code, access request), and a gestionnaire's answer to an access request. Thin: they read, call
one flow (`redemption`, `access_requests`), show its refusal with `refusal_shown`, render."""

from collections.abc import Callable, Sequence
from functools import partial
from typing import TYPE_CHECKING

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import SafeString
from django.views.decorators.http import require_http_methods, require_POST

from portail.core.context import context_of
from portail.core.fragments import render_once
from portail.core.refusals import refusal_shown
from portail.demarches.models import Demarche
from portail.habilitations import access_requests, admission, redemption
from portail.habilitations.catalogue import catalogue_of
from portail.habilitations.gate import check_strong_auth, strong_auth_gate
from portail.habilitations.mes_demarches_forms import (
    AcceptForm,
    AccessRequestForm,
    ActivationForm,
    RefuseForm,
)
from portail.habilitations.models import AccessRequest
from portail.habilitations.queries import Catalogue, pending_invitations_for
from portail.habilitations.scope import may_manage
from portail.habilitations.waiting import waiting_for

if TYPE_CHECKING:
    from portail.accounts.models import User

    class UserRequest(HttpRequest):
        """The pages of this module are for signed-in persons (LoginRequiredMiddleware)."""

        user: User


def mes_demarches(request: "UserRequest") -> HttpResponse:
    catalogue = catalogue_of(request.user)
    is_particulier = not request.user.is_professional
    # Both lists read only when the person has some (one statement says so).
    waiting = waiting_for(request.user)
    invitations = list(pending_invitations_for(request.user)) if waiting.invitations else []
    own_requests = (
        list(
            AccessRequest.objects.pending()
            .filter(requester=request.user)
            .select_related("demarche", "establishment", "role")
        )
        if waiting.requests
        else []
    )
    return render(
        request,
        "habilitations/mes_demarches.html",
        {
            "title": "Mes démarches",
            "held": catalogue.held,
            "held_html": _held_tiles(catalogue),
            "others_html": _other_demarches(catalogue, is_particulier),
            "pending_invitations": invitations,
            "own_requests": own_requests,
            "is_particulier": is_particulier,
        },
    )


def _held_tiles(catalogue: Catalogue) -> SafeString:
    """The tiles of the démarches the person holds, each rendered once per process for the same
    values (most tiles are alike from one person to the next); a démarche is read only when its
    tile is not kept."""
    held = catalogue.held
    return SafeString(
        "".join(
            render_once(
                "habilitations/_held_tile.html",
                key,
                partial(_tile_context, held, i),  # the démarche read only when not kept
            )
            for i, key in enumerate(catalogue.held_keys)
        )
    )


def _tile_context(held: Sequence[Demarche], i: int) -> dict[str, object]:
    return {"demarche": held[i]}


def _other_demarches(catalogue: Catalogue, is_particulier: bool) -> SafeString:
    """ "Les autres démarches", rendered once per process for the same démarches (the catalogue's
    key names every value _other_demarches.html reads)."""
    context = {"others": catalogue.others, "is_particulier": is_particulier}
    return render_once(
        "habilitations/_other_demarches.html", (is_particulier, catalogue.others_key), context
    )


def _demarche_or_404(code: str) -> Demarche:
    return get_object_or_404(Demarche, code=code, is_active=True)


def _professionals_only(request: "UserRequest", demarche: Demarche) -> HttpResponse:
    return render(
        request,
        "habilitations/professionals_only.html",
        {
            "title": "Démarche réservée aux professionnels",
            "demarche": demarche,
            "message": admission.PROFESSIONALS_ONLY.format(name=demarche.short_label),
        },
        status=403,
    )


def add_demarche(request: "UserRequest", code: str) -> HttpResponse:
    """ "Ajouter une démarche": the two choices (the page behind the modal, without JavaScript)."""
    demarche = _demarche_or_404(code)
    if admission.refused_to(request.user, demarche):
        return _professionals_only(request, demarche)
    return render(
        request,
        "habilitations/add.html",
        {"title": "Ajouter une démarche", "demarche": demarche, "current": ""},
    )


ADD_TEMPLATES = {
    "activate": "habilitations/activate.html",
    "request": "habilitations/request_access.html",
}


def _way_in(
    request: "UserRequest", demarche: Demarche, form: forms.Form, flow: Callable[..., object]
) -> refusal_shown:
    """Run `flow` (a way into `demarche`) with the valid form's data; its refusal on the form."""
    with refusal_shown(request, form) as attempt:
        flow(user=request.user, demarche=demarche, context=context_of(request), **form.cleaned_data)
    return attempt


def _add_page(
    request: "UserRequest", demarche: Demarche, form: forms.Form, current: str, **extra: object
) -> HttpResponse:
    """One of the two ways of "Ajouter une démarche" ("activate" or "request": `current`)."""
    return render(
        request,
        ADD_TEMPLATES[current],
        {
            "title": f"Ajouter une démarche — {demarche.short_label}",
            "demarche": demarche,
            "form": form,
            "current": current,
            **extra,
        },
    )


@require_http_methods(["GET", "POST"])
def activate(request: "UserRequest", code: str) -> HttpResponse:
    """ "SAISIR LE CODE D'ACTIVATION": SIRET enregistré + code → "VALIDER MON ACCÈS"."""
    demarche = _demarche_or_404(code)
    if admission.refused_to(request.user, demarche):
        return _professionals_only(request, demarche)
    if not demarche.accepts_activation_codes:
        raise Http404
    if request.method != "POST":
        form = ActivationForm(initial={"siret": request.user.declared_siret})
        return _add_page(request, demarche, form, "activate")
    form = ActivationForm(request.POST)
    if (
        form.is_valid()
        and _way_in(request, demarche, form, redemption.activate_with_code).succeeded
    ):
        messages.success(request, f"Vous disposez désormais de la démarche {demarche.short_label}.")
        return redirect("demarches:mes_demarches")
    return _add_page(request, demarche, form, "activate")


@require_http_methods(["GET", "POST"])
def request_access(request: "UserRequest", code: str) -> HttpResponse:
    """ "DEMANDER L'ACCÈS À UN GESTIONNAIRE": SIRET, wished role, optional message."""
    demarche = _demarche_or_404(code)
    if admission.refused_to(request.user, demarche):
        return _professionals_only(request, demarche)
    if request.method != "POST":
        initial = {"siret": request.user.declared_siret}
        form = AccessRequestForm(demarche=demarche, initial=initial)
        return _add_page(request, demarche, form, "request", no_gestionnaire=False)
    form = AccessRequestForm(request.POST, demarche=demarche)
    attempt = (
        _way_in(request, demarche, form, access_requests.request_access)
        if form.is_valid()
        else None
    )
    if attempt is not None and attempt.succeeded:
        messages.success(
            request,
            "Votre demande d'accès a été transmise aux gestionnaires de l'établissement. "
            "Vous recevrez un courriel dès qu'ils y auront répondu.",
        )
        return redirect("demarches:mes_demarches")
    # Nobody to ask: the page says so with the démarche's assistance (not as an error).
    no_gestionnaire = attempt is not None and isinstance(
        attempt.refusal, access_requests.NoGestionnaireError
    )
    return _add_page(request, demarche, form, "request", no_gestionnaire=no_gestionnaire)


def _managed_request_or_404(request: "UserRequest", pk: int) -> AccessRequest:
    access_request = get_object_or_404(
        AccessRequest.objects.select_related("demarche", "establishment"), pk=pk
    )
    if not may_manage(request.user, access_request.demarche, access_request.establishment):
        raise Http404
    return access_request


def _back(request: "UserRequest", access_request: AccessRequest) -> HttpResponseRedirect:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect(reverse("habilitations:manage", args=[access_request.demarche.code]))


def _answer_access_request(
    request: "UserRequest",
    access_request: AccessRequest,
    form: forms.Form,
    answer: Callable[..., object],
    outcome: str,
    *,
    invalid: str,
) -> HttpResponse:
    """Accept or refuse (`answer`, given the form's data) an access request, then back to where
    the gestionnaire was; `outcome` ("acceptée" or "refusée") ends the success message, `invalid`
    is the message of an invalid form."""
    if not form.is_valid():
        # `invalid` empty: the form's own message (the reason's bound, said in French).
        messages.error(request, invalid or " ".join(map(str, form.errors.get("reason") or [])))
        return _back(request, access_request)
    with refusal_shown(request) as attempt:
        answer(
            actor=request.user,
            access_request=access_request,
            context=context_of(request),
            **form.cleaned_data,
        )
    if attempt.succeeded:
        requester = access_request.requester
        messages.success(request, f"La demande d'accès de {requester} est {outcome}.")
    return _back(request, access_request)


@require_POST
@strong_auth_gate
def access_request_accept(request: "UserRequest", pk: int) -> HttpResponse:
    access_request = _managed_request_or_404(request, pk)
    # Sensitive: the factor checked within 15 minutes, where the démarche asks it; the step-up
    # leads back to the page the gestionnaire answered from.
    back = _back(request, access_request)["Location"]
    check_strong_auth(request, access_request.demarche, step_up=True, next_url=back)
    form = AcceptForm(request.POST, demarche=access_request.demarche)
    answer = access_requests.accept_access_request
    invalid = "Choisissez un rôle de la démarche."
    return _answer_access_request(
        request, access_request, form, answer, "acceptée", invalid=invalid
    )


@require_POST
@strong_auth_gate
def access_request_refuse(request: "UserRequest", pk: int) -> HttpResponse:
    access_request = _managed_request_or_404(request, pk)
    check_strong_auth(request, access_request.demarche, step_up=False)
    form = RefuseForm(request.POST)
    answer = access_requests.refuse_access_request
    invalid = ""
    return _answer_access_request(request, access_request, form, answer, "refusée", invalid=invalid)
