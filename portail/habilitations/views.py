"""The gestionnaire's management page and the invitee's answer. Views stay thin: they find
what the user may see (404 otherwise), call a flow, render."""

import re

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Q, QuerySet
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from portail.companies.models import Establishment
from portail.core.context import context_of
from portail.core.ratelimit import Limiter, format_wait
from portail.demarches.models import Demarche
from portail.habilitations import flows
from portail.habilitations.forms import DelegateForm, InviteForm, PeopleFilterForm, RoleChangeForm
from portail.habilitations.grants import HabilitationError
from portail.habilitations.models import AccessRequest, Habilitation, Invitation
from portail.habilitations.queries import PeopleByRole, name_filter, search_colleagues
from portail.habilitations.scope import managed_establishment_ids, managed_siren_list
from portail.notifications.models import OutboxEmail

PAGE_SIZE = 20
# Invitation links are personal: the history shows the message without them.
INVITATION_LINK = re.compile(r"https?://\S*/habilitations/invitations/[A-Za-z0-9_-]+/?")
LIST_CAP = 100
TABS = {
    "personnes": "Personnes habilitées pour mon entreprise",
    "caracteristiques": "Caractéristiques",
    "messages": "Historique des messages",
}
# Invitation links carry 256 random bits: this limit only keeps a client from hammering.
token_limiter = Limiter("invitation-token", limit=10, window=15 * 60, base_wait=60)


# The columns the management page's lists show (templates/habilitations/manage.html).
HABILITATION_FIELDS = (
    "role_id",
    "origin",
    "granted_at",
    "ends_at",
    "user__first_name",
    "user__last_name",
    "user__email",
    "establishment__siret",
    "establishment__name",
    "granted_by__first_name",
    "granted_by__last_name",
    "granted_by__email",
)


INVITATION_FIELDS = (
    "role_id",
    "kind",
    "email",
    "last_sent_at",
    "expires_at",
    "invited_user__first_name",
    "invited_user__last_name",
    "invited_user__email",
    "establishment__siret",
    "establishment__name",
    "sent_by__first_name",
    "sent_by__last_name",
    "sent_by__email",
)
ACCESS_REQUEST_FIELDS = (
    "role_id",
    "message",
    "created_at",
    "requester__first_name",
    "requester__last_name",
    "requester__email",
    "establishment__siret",
    "establishment__name",
)


def _gestionnaire_scope_ids(request, code):
    """The démarche and the ids of the establishments the user manages; 404 for anyone else."""
    demarche = get_object_or_404(Demarche, code=code, is_active=True)
    # One query for the scope, then a plain list of ids: composing the scope's nested
    # subqueries into every query of the page costs more to compile than to run.
    ids = managed_establishment_ids(request.user, demarche)
    if not ids:  # not a gestionnaire of this démarche
        raise Http404
    return demarche, ids


def _gestionnaire_scope(request, code):
    """The démarche and the establishments the user manages; 404 for anyone else."""
    demarche, ids = _gestionnaire_scope_ids(request, code)
    return demarche, Establishment.objects.filter(pk__in=ids)


def _page_links(request, page_obj, param):
    """Previous/next and numbered links of one paginated list, keeping the other parameters."""

    def url(number):
        query = request.GET.copy()
        query[param] = number
        return "?" + query.urlencode()

    paginator = page_obj.paginator
    numbers = [
        n
        for n in paginator.get_elided_page_range(page_obj.number, on_each_side=2, on_ends=1)
        if n != paginator.ELLIPSIS
    ]
    return {
        "page": page_obj,
        "links": [(n, url(n), n == page_obj.number) for n in numbers],
        "previous": url(page_obj.previous_page_number()) if page_obj.has_previous() else "",
        "next": url(page_obj.next_page_number()) if page_obj.has_next() else "",
        "label": param,
    }


def _optional_url(name, *args):
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""


def people_label(count: int) -> str:
    return f"{count} Personne" if count <= 1 else f"{count} Personnes"


@require_GET
def manage(request, code):
    demarche, scope_ids = _gestionnaire_scope_ids(request, code)
    scope = Establishment.objects.filter(pk__in=scope_ids)
    tab = request.GET.get("onglet", "personnes")
    if tab not in TABS:
        tab = "personnes"
    filters = PeopleFilterForm(request.GET)
    filters.is_valid()
    text = filters.cleaned_data.get("q", "").strip() if filters.is_valid() else ""
    siret = filters.cleaned_data.get("etablissement", "").strip() if filters.is_valid() else ""

    live = Habilitation.objects.active().filter(demarche=demarche, establishment_id__in=scope_ids)
    if siret:
        live = live.filter(establishment__siret=siret)
    if text:
        live = live.filter(name_filter(text, "user__") | Q(user__email__istartswith=text))
    people = live.exclude(origin=Habilitation.Origin.DELEGATION)
    delegations = live.filter(origin=Habilitation.Origin.DELEGATION)
    # Within a role, the most recent first: sorting a large company by name would join and
    # sort every person for each page (the search by name narrows the list instead).
    order = ("role__order", "role__label", "-granted_at", "-pk")

    roles = list(demarche.roles.all())
    stats = list(
        people.order_by()
        .values("role_id")
        .annotate(persons=Count("user_id", distinct=True), rows=Count("id"))
    )
    counts = {row["role_id"]: row["persons"] for row in stats}
    groups = [
        {
            "role": role,
            "count": counts.get(role.pk, 0),
            "label": people_label(counts.get(role.pk, 0)),
        }
        for role in roles
    ]
    # Two steps: the page's ids, role after role, then those rows with their relations (joining
    # first would make PostgreSQL fetch every person of the company before the sort).
    # Its total comes from the grouped counts: no COUNT query.
    rows_per_role = {row["role_id"]: row["rows"] for row in stats}
    # PeopleByRole slices like a list, which is all Paginator needs (not the stubs' protocol).
    people_page = Paginator(PeopleByRole(people, roles, rows_per_role), PAGE_SIZE).get_page(  # type: ignore[arg-type,var-annotated]
        request.GET.get("page")
    )
    page_ids = list(people_page.object_list)
    page_rows = Habilitation.objects.filter(pk__in=page_ids)
    rows = {row.pk: row for row in _shown(page_rows, roles, HABILITATION_FIELDS)}
    people_page.object_list = [rows[pk] for pk in page_ids]
    labels = {group["role"].pk: group["label"] for group in groups}
    page_groups: list[dict] = []
    for habilitation in people_page.object_list:
        if not page_groups or page_groups[-1]["role"].pk != habilitation.role_id:
            page_groups.append(
                {
                    "role": habilitation.role,
                    "label": labels.get(habilitation.role_id, ""),
                    "rows": [],
                }
            )
        page_groups[-1]["rows"].append(habilitation)
    delegations_page = Paginator(delegations.order_by("ends_at", *order), PAGE_SIZE).get_page(
        request.GET.get("dpage")
    )
    # Evaluated here, and not at all when there is none (compiling it costs 4 ms).
    delegations_page.object_list = (
        _shown(delegations_page.object_list, roles, HABILITATION_FIELDS)  # type: ignore[arg-type]  # a page of a QuerySet is a QuerySet
        if delegations_page.paginator.count
        else []
    )
    invitations = _shown(
        Invitation.objects.open()
        .filter(demarche=demarche, establishment_id__in=scope_ids)
        .order_by("-sent_at")[:LIST_CAP],
        roles,
        INVITATION_FIELDS,
    )
    access_requests = _shown(
        AccessRequest.objects.pending()
        .filter(demarche=demarche, establishment_id__in=scope_ids)
        .order_by("created_at")[:LIST_CAP],
        roles,
        ACCESS_REQUEST_FIELDS,
    )
    for access_request in access_requests:
        access_request.accept_url = _optional_url(
            "demarches:access_request_accept", access_request.pk
        )
        access_request.refuse_url = _optional_url(
            "demarches:access_request_refuse", access_request.pk
        )
    establishments = list(scope.order_by("siret").only("siret", "name")[: LIST_CAP * 2])
    emails_page = Paginator(
        OutboxEmail.objects.about(demarche.pk, scope_ids)
        .only("created_at", "recipient", "subject", "status", "sent_at", "body_text")
        .order_by("-created_at", "-id"),
        PAGE_SIZE,
    ).get_page(request.GET.get("mpage"))
    for email in emails_page.object_list:
        email.display_body = INVITATION_LINK.sub("[lien personnel masqué]", email.body_text)

    # "Inviter un utilisateur" as a DSFR modal over the page (the plain page is the fallback).
    invite_context = _invitation_form_context(
        request,
        demarche,
        InviteForm(actor=request.user, demarche=demarche, establishments=scope),
        kind="colleague",
        roles=roles,
    )
    invite_context["autocomplete_url"] = reverse("habilitations:autocomplete", args=[demarche.code])
    invite_context["candidates"] = []
    return render(
        request,
        "habilitations/manage.html",
        {
            "title": f"{demarche.short_label} — {demarche.service_type}",
            "demarche": demarche,
            "tab": tab,
            "tabs": TABS,
            "filters": filters,
            "filter_text": text,
            "filter_siret": siret,
            "groups": groups,
            "page_groups": page_groups,
            "people": _page_links(request, people_page, "page"),
            "delegations": _page_links(request, delegations_page, "dpage"),
            "invitations": invitations,
            "access_requests": access_requests,
            "roles": roles,
            "establishments": establishments,
            "emails": _page_links(request, emails_page, "mpage"),
            "now": timezone.now(),
            "invite": invite_context,
        },
    )


@require_GET
@never_cache
def autocomplete(request, code):
    # The company's SIRENs answer "is this a gestionnaire of this active démarche?" and "which
    # company?" in one query.
    sirens = managed_siren_list(request.user, code)
    if not sirens:
        raise Http404
    found = search_colleagues(request.user, code, request.GET.get("q", "")[:100], sirens=sirens)
    response = JsonResponse(
        {
            "results": [
                {"id": str(user.public_id), "name": user.get_full_name(), "email": user.email}
                for user in found
            ]
        }
    )
    response["Cache-Control"] = "no-store"
    return response


def _shown(rows: QuerySet, roles, fields: tuple[str, ...]) -> list:
    """`rows` with the columns `fields` that a list of the management page shows, and nothing
    more (a fifth of the columns of a plain select_related); their roles from `roles`, the
    démarche's, already read, rather than a join."""
    by_id = {role.pk: role for role in roles}
    related = sorted({field.split("__")[0] for field in fields if "__" in field})
    shown = list(rows.select_related(*related).only(*fields))
    for row in shown:
        row.role = by_id[row.role_id]
    return shown


def _invitation_form_context(request, demarche, form, *, kind, roles=None):
    """What the invitation form's template needs; `roles`: the démarche's, if already read."""
    if roles is None:
        roles = list(form.fields["role"].queryset)
    establishments = list(form.fields["establishment"].queryset.only("siret", "name"))
    chosen_role = form["role"].value()
    chosen_siret = form["establishment"].value()
    role = next((r for r in roles if str(r.pk) == str(chosen_role)), None)
    establishment = next((e for e in establishments if e.siret == chosen_siret), None)
    return {
        "demarche": demarche,
        "form": form,
        "roles": roles,
        "establishments": establishments,
        "chosen_role": str(chosen_role or ""),
        "chosen_siret": chosen_siret or "",
        "summary_role": role.label if role else "…",
        "summary_company": establishment.name if establishment else "…",
        "inviter": request.user.get_full_name() or request.user.email,
        "kind": kind,
    }


def _send_invitation(request, demarche, form, **invite_kwargs):
    """Send the invitation a valid invite or delegate form describes: the redirect to the
    management page, or None with the error added to the form."""
    try:
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
    except HabilitationError as error:
        form.add_error(None, str(error))
        return None
    messages.success(request, "Email d'invitation transmis")
    return redirect("habilitations:manage", code=demarche.code)


@require_http_methods(["GET", "POST"])
def invite(request, code):
    demarche, scope = _gestionnaire_scope(request, code)
    form_kwargs = {"actor": request.user, "demarche": demarche, "establishments": scope}
    candidates = []
    if request.method == "POST" and request.POST.get("action") == "search":
        # Without JavaScript, "Rechercher" lists the matching accounts as choices.
        form = InviteForm(request.POST, **form_kwargs)
        form.errors.clear()
        candidates = search_colleagues(request.user, demarche, request.POST.get("user_query", ""))
    elif request.method == "POST":
        form = InviteForm(request.POST, **form_kwargs)
        if form.is_valid():
            sent = _send_invitation(
                request, demarche, form, invited_user=form.cleaned_data["invited_user"]
            )
            if sent is not None:
                return sent
    else:
        form = InviteForm(**form_kwargs)
    context = _invitation_form_context(request, demarche, form, kind="colleague")
    context.update(
        {
            "title": "Inviter un utilisateur",
            "candidates": candidates,
            "searched": request.POST.get("action") == "search",
            "autocomplete_url": reverse("habilitations:autocomplete", args=[demarche.code]),
        }
    )
    return render(request, "habilitations/invite.html", context)


@require_http_methods(["GET", "POST"])
def delegate(request, code):
    demarche, scope = _gestionnaire_scope(request, code)
    form_kwargs = {"actor": request.user, "demarche": demarche, "establishments": scope}
    if request.method == "POST":
        form = DelegateForm(request.POST, **form_kwargs)
        if form.is_valid():
            sent = _send_invitation(
                request,
                demarche,
                form,
                kind=Invitation.Kind.THIRD_PARTY,
                delegation_ends_at=form.ends_at,
            )
            if sent is not None:
                return sent
    else:
        form = DelegateForm(**form_kwargs)
    context = _invitation_form_context(request, demarche, form, kind="third_party")
    context["title"] = "Déléguer une habilitation à un tiers"
    return render(request, "habilitations/delegate.html", context)


def _managed_habilitation(scope, demarche, pk):
    return get_object_or_404(
        Habilitation.objects.active()
        .filter(demarche=demarche, establishment__in=scope)
        .select_related("user", "role", "establishment"),
        pk=pk,
    )


def _managed_invitation(scope, demarche, pk):
    return get_object_or_404(
        Invitation.objects.open().filter(demarche=demarche, establishment__in=scope), pk=pk
    )


@require_http_methods(["GET", "POST"])
def revoke(request, code, pk):
    demarche, scope = _gestionnaire_scope(request, code)
    habilitation = _managed_habilitation(scope, demarche, pk)
    if request.method == "POST":
        try:
            flows.revoke(actor=request.user, habilitation=habilitation, context=context_of(request))
        except HabilitationError as error:
            messages.error(request, str(error))
        else:
            messages.success(
                request,
                f"L’habilitation de {habilitation.user} ({habilitation.role.label}) a été révoquée.",
            )
        return redirect("habilitations:manage", code=demarche.code)
    return render(
        request,
        "habilitations/revoke.html",
        {
            "title": "Révoquer une habilitation",
            "demarche": demarche,
            "habilitation": habilitation,
            "blocked_reason": flows.last_gestionnaire_reason(habilitation),
        },
    )


@require_http_methods(["GET", "POST"])
def change_role(request, code, pk):
    demarche, scope = _gestionnaire_scope(request, code)
    habilitation = _managed_habilitation(scope, demarche, pk)
    form = RoleChangeForm(
        request.POST or None, demarche=demarche, initial={"role": habilitation.role_id}
    )
    if request.method == "POST" and form.is_valid():
        try:
            flows.change_role(
                actor=request.user,
                habilitation=habilitation,
                role=form.cleaned_data["role"],
                context=context_of(request),
            )
        except HabilitationError as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request,
                f"{habilitation.user} a désormais le rôle {form.cleaned_data['role'].label}.",
            )
            return redirect("habilitations:manage", code=demarche.code)
    return render(
        request,
        "habilitations/change_role.html",
        {
            "title": "Changer le rôle",
            "demarche": demarche,
            "habilitation": habilitation,
            "form": form,
            "roles": list(form.fields["role"].queryset),  # type: ignore[attr-defined]  # a ModelChoiceField
            "chosen_role": str(form["role"].value() or ""),
        },
    )


def _act_on_invitation(request, code, pk, action, success: str):
    """Resend or cancel one of the gestionnaire's open invitations, then back to the list;
    `success` is the message, with {email} for the invitation's address."""
    demarche, scope = _gestionnaire_scope(request, code)
    invitation = _managed_invitation(scope, demarche, pk)
    try:
        action(actor=request.user, invitation=invitation, context=context_of(request))
    except HabilitationError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, success.format(email=invitation.email))
    return redirect(reverse("habilitations:manage", args=[demarche.code]) + "#invitations")


@require_POST
def resend(request, code, pk):
    return _act_on_invitation(
        request, code, pk, flows.resend_invitation, "Invitation renvoyée à {email}."
    )


@require_POST
def cancel(request, code, pk):
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
def invitation(request, token):
    """The link of the invitation email."""
    return _answer_invitation(request, token=token)


@require_http_methods(["GET", "POST"])
@never_cache
def pending_invitation(request, pk):
    """The same page reached from "Mes démarches" (a lost email is not a dead end)."""
    return _answer_invitation(request, pk=pk)


def _answer_invitation(request, token=None, pk=None):
    subject = f"user:{request.user.pk}"
    if token_limiter.is_blocked(subject):
        return render(
            request,
            "habilitations/invitation_error.html",
            {
                "title": "Invitation",
                "reason": "blocked",
                "message": "Trop de liens d’invitation non valides ont été ouverts. Réessayez "
                f"dans {format_wait(token_limiter.wait_seconds(subject))}.",
            },
            status=429,
        )
    try:
        if request.method == "POST" and request.POST.get("decision") == "accept":
            habilitation = flows.accept_invitation(
                user=request.user, token=token, pk=pk, context=context_of(request)
            )
            messages.success(
                request,
                f"Vous avez désormais accès à la démarche {habilitation.demarche.short_label} "
                f"avec le rôle {habilitation.role.label}.",
            )
            return redirect("demarches:mes_demarches")
        if request.method == "POST" and request.POST.get("decision") == "refuse":
            refused = flows.refuse_invitation(
                user=request.user, token=token, pk=pk, context=context_of(request)
            )
            messages.info(
                request,
                f"Vous avez refusé l’invitation à la démarche {refused.demarche.short_label}.",
            )
            return redirect("demarches:mes_demarches")
        found = flows.find_invitation(request.user, token, pk=pk)
    except flows.InvitationError as error:
        if error.reason == "unknown":
            token_limiter.fail(subject)
        return render(
            request,
            "habilitations/invitation_error.html",
            {"title": "Invitation", "reason": error.reason, "message": str(error)},
            status=INVITATION_ERROR_STATUS.get(error.reason, 400),
        )
    return render(
        request,
        "habilitations/invitation.html",
        {
            "title": f"Invitation à rejoindre la démarche {found.demarche.short_label}",
            "invitation": found,
            "inviter": found.sent_by.get_full_name() if found.sent_by else "Un gestionnaire",
        },
    )
