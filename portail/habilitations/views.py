"""The gestionnaire's management page and the invitee's answer. Thin: they find what the user
may see (404 otherwise), read a query object or call one flow (showing its refusal with
`refusal_shown`), render."""

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from django.contrib import messages
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from portail.companies.models import Establishment
from portail.core.context import context_of
from portail.core.ratelimit import attempt, format_wait
from portail.core.refusals import refusal_shown
from portail.demarches.models import Demarche, Role
from portail.habilitations import flows, invite_form_html
from portail.habilitations.forms import DelegateForm, InviteForm, PeopleFilterForm, RoleChangeForm
from portail.habilitations.gate import check_required, check_strong_auth, strong_auth_gate
from portail.habilitations.invitation_scope import managed_scope
from portail.habilitations.limits import token_limiter
from portail.habilitations.management_page import ManagementPage
from portail.habilitations.models import Habilitation, Invitation
from portail.habilitations.queries import search_colleagues
from portail.habilitations.scope import managed_establishment_ids, managed_siren_list

if TYPE_CHECKING:
    from portail.accounts.models import User

    class UserRequest(HttpRequest):
        """The pages of this module are for signed-in persons (LoginRequiredMiddleware)."""

        user: User


InvitationForm = TypeVar("InvitationForm", InviteForm, DelegateForm)


def _gestionnaire_scope_ids(
    request: "UserRequest", code: str, *, step_up: bool = False
) -> tuple[Demarche, list[int]]:
    """The démarche and the ids of the establishments the user manages; 404 for anyone else.
    Then the démarche's second-factor rule (`step_up`: a sensitive action)."""
    demarche = get_object_or_404(Demarche, code=code, is_active=True)
    # One query for the scope, then a plain list of ids: composing the scope's nested
    # subqueries into every query of the page costs more to compile than to run.
    ids = managed_establishment_ids(request.user, demarche)
    if not ids:  # not a gestionnaire of this démarche
        raise Http404
    check_strong_auth(request, demarche, step_up=step_up)
    return demarche, ids


def _gestionnaire_scope(
    request: "UserRequest", code: str, *, step_up: bool = False
) -> tuple[Demarche, QuerySet[Establishment]]:
    """The démarche and the establishments the user manages; 404 for anyone else."""
    demarche, ids = _gestionnaire_scope_ids(request, code, step_up=step_up)
    return demarche, Establishment.objects.filter(pk__in=ids)


def _full_name(user: "User") -> str:
    return f"{user.first_name} {user.last_name}".strip()


def _inviter(request: "UserRequest") -> str:
    return str(request.user)  # the full name, else the email


@require_GET
@strong_auth_gate
def manage(request: "UserRequest", code: str) -> HttpResponse:
    # The démarche with its roles, and the establishments managed: two plain statements
    # (invitation_scope; four ORM reads compiled per request before).
    demarche, managed, roles = _managed(request, code, step_up=False)
    scope_ids = [establishment.pk for establishment in managed]
    filters = PeopleFilterForm(request.GET)
    found = filters.cleaned_data if filters.is_valid() else {}
    page = ManagementPage.build(
        demarche,
        managed,
        roles,
        request.GET,
        filter_text=found.get("q", "").strip(),
        filter_siret=found.get("etablissement", "").strip(),
    )
    # "Inviter un utilisateur" as a DSFR modal over the page (the plain page is the fallback),
    # empty: its form is made only the first time it is rendered, to be kept.
    invite = invite_form_html.empty_context(
        demarche=demarche,
        roles=page.roles,
        establishments=page.active_establishments,
        inviter=_inviter(request),
        autocomplete_url=reverse("habilitations:autocomplete", args=[demarche.code]),
        make_form=lambda: InviteForm(
            actor=request.user,
            demarche=demarche,
            establishments=Establishment.objects.filter(pk__in=scope_ids),
        ),
    )
    context = page.context() | {
        "filters": filters,
        "invite_form": invite_form_html.rendered(request, invite),
    }
    return render(request, "habilitations/manage.html", context)


@require_GET
@never_cache
@strong_auth_gate
def autocomplete(request: "UserRequest", code: str) -> JsonResponse:
    # The company's SIRENs answer "is this a gestionnaire of this active démarche?" and "which
    # company?" in one query.
    sirens = managed_siren_list(request.user, code)
    if not sirens:
        raise Http404
    required = Demarche.objects.filter(code=code, requires_mfa=True).exists()
    check_required(request, required, step_up=False)
    found = search_colleagues(request.user, code, request.GET.get("q", "")[:100], sirens=sirens)
    response = JsonResponse(
        {
            "results": [
                {"id": str(user.public_id), "name": _full_name(user), "email": user.email}
                for user in found
            ]
        }
    )
    response["Cache-Control"] = "no-store"
    return response


def _send_invitation(
    request: "UserRequest",
    demarche: Demarche,
    form: InviteForm | DelegateForm,
    **invite_kwargs: Any,
) -> bool:
    """Send the invitation a valid invite or delegate form describes; False with the refusal on
    the form."""
    with refusal_shown(request, form, success="Email d'invitation transmis") as attempt:
        flows.invite(
            actor=request.user,
            demarche=demarche,
            role=form.cleaned_data["role"],
            establishment=form.cleaned_data["establishment"],
            email=form.cleaned_data["email"],
            submission_key=form.cleaned_data["submission_key"],
            context=context_of(request),
            **invite_kwargs,
        )
    return attempt.succeeded


def _managed(
    request: "UserRequest", code: str, *, step_up: bool
) -> tuple[Demarche, list[Establishment], list[Role]]:
    """The démarche with its roles and the establishments the user manages (by SIRET, open or
    closed): `_gestionnaire_scope`'s answer in two plain statements; 404 for anyone else. Then
    the démarche's second-factor rule (`step_up`: a sensitive action)."""
    demarche, managed, roles = managed_scope(request.user, code)
    if demarche is None or not managed:  # not a gestionnaire of this démarche
        raise Http404
    check_strong_auth(request, demarche, step_up=step_up)
    return demarche, managed, roles


def _invitation_form(
    request: "UserRequest", code: str, form_class: type[InvitationForm]
) -> tuple[Demarche, InvitationForm, dict[str, Any]]:
    """The démarche, the invite or delegate form on the establishments the user manages, and
    what its template reads already read (the démarche's roles, the open establishments by
    SIRET); 404 for anyone else (a sensitive action: the factor checked within 15 minutes where
    the démarche asks it)."""
    demarche, managed, roles = _managed(request, code, step_up=True)
    scope = Establishment.objects.filter(pk__in=[establishment.pk for establishment in managed])
    data = request.POST if request.method == "POST" else None
    form = form_class(data, actor=request.user, demarche=demarche, establishments=scope)
    read = {"roles": roles, "establishments": [e for e in managed if e.is_active]}
    return demarche, form, read


@require_http_methods(["GET", "POST"])
@strong_auth_gate
def invite(request: "UserRequest", code: str) -> HttpResponse:
    if request.method == "GET":
        return _empty_invitation(request, code)
    demarche, form, read = _invitation_form(request, code, InviteForm)
    searched = request.method == "POST" and request.POST.get("action") == "search"
    candidates = []
    if searched:
        # Without JavaScript, "Rechercher" lists the matching accounts as choices.
        form.errors.clear()
        candidates = search_colleagues(request.user, demarche, request.POST.get("user_query", ""))
    elif form.is_bound and form.is_valid():
        invited_user = form.cleaned_data["invited_user"]
        if _send_invitation(request, demarche, form, invited_user=invited_user):
            return redirect("habilitations:manage", code=demarche.code)
    context = form.template_context(inviter=_inviter(request), kind="colleague", **read)
    context.update(
        {
            "title": "Inviter un utilisateur",
            "candidates": candidates,
            "searched": searched,
            "autocomplete_url": reverse("habilitations:autocomplete", args=[demarche.code]),
        }
    )
    context["invite_form"] = invite_form_html.rendered(request, context)
    return render(request, "habilitations/invite.html", context)


def _empty_invitation(request: "UserRequest", code: str) -> HttpResponse:
    """The invitation page, its form empty: kept (invite_form_html), the form made only to
    render it the first time, as in the management page's modal."""
    demarche, managed, roles = _managed(request, code, step_up=True)
    context = invite_form_html.empty_context(
        demarche=demarche,
        roles=roles,
        establishments=[e for e in managed if e.is_active],
        inviter=_inviter(request),
        autocomplete_url=reverse("habilitations:autocomplete", args=[demarche.code]),
        make_form=lambda: InviteForm(
            actor=request.user,
            demarche=demarche,
            establishments=Establishment.objects.filter(pk__in=[e.pk for e in managed]),
        ),
    )
    context["title"] = "Inviter un utilisateur"
    context["invite_form"] = invite_form_html.rendered(request, context)
    return render(request, "habilitations/invite.html", context)


@require_http_methods(["GET", "POST"])
@strong_auth_gate
def delegate(request: "UserRequest", code: str) -> HttpResponse:
    demarche, form, read = _invitation_form(request, code, DelegateForm)
    if form.is_bound and form.is_valid():
        kind = Invitation.Kind.THIRD_PARTY
        if _send_invitation(request, demarche, form, kind=kind, delegation_ends_at=form.ends_at):
            return redirect("habilitations:manage", code=demarche.code)
    context = form.template_context(inviter=_inviter(request), kind="third_party", **read)
    context["title"] = "Déléguer une habilitation à un tiers"
    return render(request, "habilitations/delegate.html", context)


def _managed_habilitation(request: "UserRequest", code: str, pk: int) -> Habilitation:
    """A live habilitation of the établissements the user manages; 404 otherwise. Revoking it
    or changing its role is sensitive: the factor checked within 15 minutes, where asked."""
    demarche, scope = _gestionnaire_scope(request, code, step_up=True)
    return get_object_or_404(
        Habilitation.objects.active()
        .filter(demarche=demarche, establishment__in=scope)
        .select_related("demarche", "user", "role", "establishment"),
        pk=pk,
    )


def _managed_invitation(request: "UserRequest", code: str, pk: int) -> Invitation:
    """An open invitation of the établissements the user manages; 404 otherwise."""
    demarche, scope = _gestionnaire_scope(request, code)
    return get_object_or_404(
        Invitation.objects.open()
        .filter(demarche=demarche, establishment__in=scope)
        .select_related("demarche"),
        pk=pk,
    )


HABILITATION_PAGES = {"revoke": "Révoquer une habilitation", "change_role": "Changer le rôle"}


def _habilitation_page(
    request: "UserRequest", habilitation: Habilitation, page: str, **extra: object
) -> HttpResponse:
    """The page `page` (revoke or change_role) about one habilitation."""
    return render(
        request,
        f"habilitations/{page}.html",
        {
            "title": HABILITATION_PAGES[page],
            "demarche": habilitation.demarche,
            "habilitation": habilitation,
            **extra,
        },
    )


@require_http_methods(["GET", "POST"])
@strong_auth_gate
def revoke(request: "UserRequest", code: str, pk: int) -> HttpResponse:
    habilitation = _managed_habilitation(request, code, pk)
    if request.method == "POST":
        with refusal_shown(
            request,
            success=f"L’habilitation de {habilitation.user} ({habilitation.role.label}) a été révoquée.",
        ):
            flows.revoke(actor=request.user, habilitation=habilitation, context=context_of(request))
        return redirect("habilitations:manage", code=code)
    blocked_reason = flows.last_gestionnaire_reason(habilitation)
    return _habilitation_page(request, habilitation, "revoke", blocked_reason=blocked_reason)


@require_http_methods(["GET", "POST"])
@strong_auth_gate
def change_role(request: "UserRequest", code: str, pk: int) -> HttpResponse:
    habilitation = _managed_habilitation(request, code, pk)
    form = RoleChangeForm(
        request.POST or None, demarche=habilitation.demarche, initial={"role": habilitation.role_id}
    )
    if form.is_bound and form.is_valid():
        role = form.cleaned_data["role"]
        with refusal_shown(
            request, form, success=f"{habilitation.user} a désormais le rôle {role.label}."
        ) as attempt:
            flows.change_role(
                actor=request.user,
                habilitation=habilitation,
                role=role,
                context=context_of(request),
            )
        if attempt.succeeded:
            return redirect("habilitations:manage", code=code)
    roles = list(form.roles)
    chosen_role = str(form["role"].value() or "")
    return _habilitation_page(
        request, habilitation, "change_role", form=form, roles=roles, chosen_role=chosen_role
    )


def _act_on_invitation(
    request: "UserRequest", code: str, pk: int, action: Callable[..., object], success: str
) -> HttpResponse:
    """Resend or cancel one of the gestionnaire's open invitations, then back to the list;
    `success` is the message, with {email} for the invitation's address."""
    invitation = _managed_invitation(request, code, pk)
    with refusal_shown(request, success=success.format(email=invitation.email)):
        action(actor=request.user, invitation=invitation, context=context_of(request))
    return redirect(reverse("habilitations:manage", args=[code]) + "#invitations")


@require_POST
@strong_auth_gate
def resend(request: "UserRequest", code: str, pk: int) -> HttpResponse:
    return _act_on_invitation(
        request, code, pk, flows.resend_invitation, "Invitation renvoyée à {email}."
    )


@require_POST
@strong_auth_gate
def cancel(request: "UserRequest", code: str, pk: int) -> HttpResponse:
    return _act_on_invitation(
        request, code, pk, flows.cancel_invitation, "L’invitation de {email} a été annulée."
    )


INVITATION_ERROR_STATUS = {
    "unknown": 404,
    "not_for_you": 403,
    "particulier": 403,
    "cancelled": 410,
    "used": 410,
    "expired": 410,
    "closed": 410,
}


@require_http_methods(["GET", "POST"])
@never_cache
def invitation(request: "UserRequest", token: str) -> HttpResponse:
    """The link of the invitation email."""
    return _answer_invitation(request, token=token)


@require_http_methods(["GET", "POST"])
@never_cache
def pending_invitation(request: "UserRequest", pk: int) -> HttpResponse:
    """The same page reached from "Mes démarches" (a lost email is not a dead end)."""
    return _answer_invitation(request, pk=pk)


def _answer_invitation(
    request: "UserRequest", token: str | None = None, pk: int | None = None
) -> HttpResponse:
    """Show the invitation, or take the invitee's answer (accept or refuse); an unusable
    invitation has its own page (`flows.InvitationError.reason`), with its status."""
    subject = f"user:{request.user.pk}"
    slot = attempt((token_limiter, subject))
    if slot.wait:
        wait = format_wait(slot.wait)
        message = f"Trop de liens d’invitation non valides ont été ouverts. Réessayez dans {wait}."
        return _invitation_error(request, "blocked", message, status=429)
    guessed = False
    try:
        return _invitation_answered(request, token, pk)
    except flows.InvitationError as error:
        guessed = error.reason == "unknown"
        status = INVITATION_ERROR_STATUS.get(error.reason, 400)
        return _invitation_error(request, error.reason, error.message, status=status)
    finally:
        if guessed:
            slot.failed()
        else:
            slot.succeeded()


def _invitation_answered(request: "UserRequest", token: str | None, pk: int | None) -> HttpResponse:
    """The invitation's page, or the answer given on it and back to "Mes démarches"."""
    decision = request.POST.get("decision") if request.method == "POST" else None
    if decision == "accept":
        habilitation = flows.accept_invitation(
            user=request.user, token=token, pk=pk, context=context_of(request)
        )
        messages.success(
            request,
            f"Vous avez désormais accès à la démarche {habilitation.demarche.short_label} "
            f"avec le rôle {habilitation.role.label}.",
        )
        return redirect("demarches:mes_demarches")
    if decision == "refuse":
        refused = flows.refuse_invitation(
            user=request.user, token=token, pk=pk, context=context_of(request)
        )
        messages.info(
            request, f"Vous avez refusé l’invitation à la démarche {refused.demarche.short_label}."
        )
        return redirect("demarches:mes_demarches")
    found = flows.find_invitation(request.user, token, pk=pk)
    return render(
        request,
        "habilitations/invitation.html",
        {
            "title": f"Invitation à rejoindre la démarche {found.demarche.short_label}",
            "invitation": found,
            "inviter": _full_name(found.sent_by) if found.sent_by else "Un gestionnaire",
        },
    )


def _invitation_error(
    request: "UserRequest", reason: str, message: str, *, status: int
) -> HttpResponse:
    return render(
        request,
        "habilitations/invitation_error.html",
        {"title": "Invitation", "reason": reason, "message": message},
        status=status,
    )
