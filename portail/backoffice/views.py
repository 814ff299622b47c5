"""The agents' back-office views: thin — parse, check scope, call a flow, render.

Every view but the sign-in steps is wrapped by `agent_required`: anyone who is not an agent with
a verified TOTP session gets a 404. Objects outside the agent's regions are 404 too.
"""

import itertools
from collections.abc import Iterator
from typing import Any
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    QueryDict,
    StreamingHttpResponse,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from portail.accounts import mfa
from portail.accounts.models import User
from portail.audit.journal import record
from portail.backoffice import (
    activation,
    agent_auth,
    flows,
    followup,
    imports,
    queries,
    support,
)
from portail.backoffice import journal as agents_journal
from portail.backoffice.access import AgentRequest, agent_required, is_verified_agent
from portail.backoffice.activation import ActivationStatus
from portail.backoffice.forms import (
    AgentLoginForm,
    CentreCreateForm,
    CentreEditForm,
    CentreFilterForm,
    CloseCentreForm,
    CsvImportForm,
    JournalFilterForm,
    LinkedSiteForm,
    OtpForm,
    ResetFactorsForm,
    RevokeHabilitationForm,
    SupportSearchForm,
)
from portail.backoffice.models import LetterBatch
from portail.centres.models import Centre, CentreImport, LinkedSite, Region
from portail.companies.registry import EstablishmentData
from portail.core.context import context_of
from portail.core.refusals import refusal_shown
from portail.habilitations.models import Habilitation
from portail.oidc.webhooks import delivery_states

PAGE_SIZE = 25

# Centres of `Centre.objects` (a CentreQuerySet): Any while portail.centres is not annotated
# (its visible_to, open and search are untyped).
Centres = Any


def _no_store(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store"
    return response


CSV = "text/csv; charset=utf-8"
# Excel (in French) reads a CSV file as Windows-1252 unless it starts with a byte-order mark.
UTF8_BOM = "\ufeff"


def _streamed_csv(lines: Iterator[str], filename: str) -> StreamingHttpResponse:
    """A CSV export too large to hold in memory, with the byte-order mark of `_file`."""
    response = StreamingHttpResponse(itertools.chain([UTF8_BOM], lines), content_type=CSV)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


def _file(content: bytes | str, content_type: str, filename: str) -> HttpResponse:
    if content_type == CSV and isinstance(content, str) and not content.startswith(UTF8_BOM):
        content = UTF8_BOM + content
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return _no_store(response)


# --- Sign-in --------------------------------------------------------------------------------


@login_not_required
def login(request: HttpRequest) -> HttpResponse:
    if is_verified_agent(request):
        return redirect("backoffice:home")
    form = AgentLoginForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with refusal_shown(request, form) as attempt:
            agent_auth.check_password(
                request, form.cleaned_data["email"], form.cleaned_data["password"]
            )
        if attempt.succeeded:
            return redirect("backoffice:otp")
    return render(
        request,
        "backoffice/login.html",
        {"title": "Connexion des agents du ministère", "form": form},
    )


@login_not_required
def otp(request: HttpRequest) -> HttpResponse:
    user = agent_auth.pending_agent(request)
    if user is None:
        messages.error(request, agent_auth.EXPIRED_STEP)
        return redirect("backoffice:login")
    if flows.confirmed_device(user) is None:
        return redirect("backoffice:enrol")
    form = OtpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with refusal_shown(request, form) as attempt:
            agent_auth.verify_code(request, user, form.cleaned_data["code"], enrolling=False)
        if attempt.succeeded:
            return redirect("backoffice:home")
    return render(request, "backoffice/otp.html", {"title": "Code de vérification", "form": form})


@login_not_required
def enrol(request: HttpRequest) -> HttpResponse:
    user = agent_auth.pending_agent(request)
    if user is None:
        messages.error(request, agent_auth.EXPIRED_STEP)
        return redirect("backoffice:login")
    if flows.confirmed_device(user) is not None:
        return redirect("backoffice:otp")
    device = flows.enrolment_device(user)
    form = OtpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with refusal_shown(
            request, form, success="Votre application d’authentification est enregistrée."
        ) as attempt:
            agent_auth.verify_code(request, user, form.cleaned_data["code"], enrolling=True)
        if attempt.succeeded:
            return redirect("backoffice:home")
    return _no_store(
        render(
            request,
            "backoffice/enrol.html",
            {
                "title": "Enregistrer votre application d’authentification",
                "form": form,
                "qr_code": agent_auth.qr_code_data_uri(device),
                "secret": agent_auth.secret_text(device),
            },
        )
    )


# --- Home, centres --------------------------------------------------------------------------


@agent_required
def home(request: AgentRequest) -> HttpResponse:
    return render(
        request,
        "backoffice/home.html",
        {
            "title": "Espace agents",
            "agent": request.agent,
            "regions": request.agent.regions.order_by("name")
            if not request.agent.is_national
            else [],
            "counts": followup.region_counts(request.agent, flows.ceres()),
        },
    )


def _filtered_centres(
    request: AgentRequest, data: QueryDict | None
) -> tuple[CentreFilterForm, Centres]:
    form = CentreFilterForm(data, agent=request.agent)
    centres = Centre.objects.visible_to(request.agent)
    if form.is_valid():
        cleaned = form.cleaned_data
        if not cleaned.get("include_closed"):
            centres = centres.open()
        centres = centres.search(cleaned.get("q"))
        if cleaned.get("region"):
            centres = centres.filter(region=cleaned["region"])
        if cleaned.get("status"):
            centres = activation.with_status(centres, cleaned["status"], flows.ceres())
    else:
        centres = centres.open()
    return form, centres


@agent_required
def centres(request: AgentRequest) -> HttpResponse:
    form, centres = _filtered_centres(request, request.GET)
    demarche = flows.ceres()
    # Any: each row gets its activation `status` for the template.
    queryset: QuerySet[Any] = followup.with_current_code(
        activation.with_activation(centres, demarche), demarche
    ).select_related("establishment", "region")
    page = Paginator(queryset.order_by("letter_name", "pk"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    for centre in page:
        centre.status = activation.status_of(centre)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "backoffice/centres.html",
        {
            "title": "Centres agréés",
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "export_max_rows": agents_journal.EXPORT_MAX_ROWS,
            # "50 000", as French writes it (a narrow no-break space between the thousands).
            "export_max_rows_text": f"{agents_journal.EXPORT_MAX_ROWS:,}".replace(",", "\u202f"),
        },
    )


def _audit_export(request: AgentRequest, kind: str, **data: Any) -> None:
    record(
        "backoffice.export",
        actor=request.user,
        context=context_of(request),
        data={"kind": kind, **data},
    )


@agent_required
def centres_csv(request: AgentRequest) -> HttpResponse:
    _, queryset = _filtered_centres(request, request.GET)
    flows_ceres = flows.ceres()
    _audit_export(request, "centres")
    return _file(
        followup.centres_csv(queryset.order_by("letter_name", "pk"), flows_ceres),
        CSV,
        "centres-agrees.csv",
    )


def _visible_centre(request: AgentRequest, pk: int) -> Centre:
    centre: Centre = get_object_or_404(
        Centre.objects.visible_to(request.agent).select_related("establishment", "region"), pk=pk
    )
    return centre


@agent_required
def centre_create(request: AgentRequest) -> HttpResponse:
    form = CentreCreateForm(request.POST or None, agent=request.agent)
    registry_data = None
    if request.method == "POST" and "lookup" in request.POST:
        # "Rechercher" (without JavaScript): prefill from the registry, create nothing yet.
        form, registry_data = _prefilled_form(request)
    elif request.method == "POST" and form.is_valid():
        with refusal_shown(request, form) as attempt:
            centre = flows.register_centre(
                actor=request.user,
                siret=form.cleaned_data["siret"],
                data=form.cleaned_data,
                context=context_of(request),
            )
        if attempt.succeeded:
            messages.success(request, f"Le centre {centre.letter_name} est enregistré.")
            return redirect("backoffice:centre", pk=centre.pk)
    return _centre_form_page(
        request, form, title="Nouveau centre agréé", centre=None, registry_data=registry_data
    )


def _centre_form_page(
    request: AgentRequest,
    form: CentreCreateForm | CentreEditForm,
    *,
    title: str,
    centre: Centre | None,
    registry_data: EstablishmentData | None = None,
) -> HttpResponse:
    """The form of a new centre (`centre` None) or of an existing one."""
    return render(
        request,
        "backoffice/centre_form.html",
        {
            "title": title,
            "form": form,
            "registry_data": registry_data,
            "creating": centre is None,
            "centre": centre,
        },
    )


def _prefilled_form(request: AgentRequest) -> tuple[CentreCreateForm, EstablishmentData | None]:
    values = {name: request.POST.get(name, "") for name in CentreCreateForm.base_fields}
    prefill = queries.centre_prefill(values)
    form = CentreCreateForm(agent=request.agent, initial=prefill.values)
    if prefill.error:
        form.lookup_error = prefill.error
    return form, prefill.data


@agent_required
def centre_detail(request: AgentRequest, pk: int) -> HttpResponse:
    centre = _visible_centre(request, pk)
    demarche = flows.ceres()
    annotated = activation.with_activation(Centre.objects.all(), demarche).get(pk=centre.pk)
    return render(
        request,
        "backoffice/centre.html",
        {
            "title": centre.letter_name,
            "centre": centre,
            "status": activation.status_of(annotated),
            "followup": followup.centre_followup(centre, demarche),
            "sites": centre.sites.select_related("establishment").annotate(
                sirene_closed_at=queries.sirene_closure_date()
            ),
            "sirene_closed_at": queries.closed_in_sirene_at(centre.establishment),
            "site_form": LinkedSiteForm(),
            "events": queries.centre_events(centre),
            "now": timezone.now(),
        },
    )


@agent_required
def centre_edit(request: AgentRequest, pk: int) -> HttpResponse:
    centre = _visible_centre(request, pk)
    form = CentreEditForm(request.POST or None, instance=centre, agent=request.agent)
    if request.method == "POST" and form.is_valid():
        flows.update_centre(
            actor=request.user,
            centre=centre,
            data={name: form.cleaned_data[name] for name in flows.EDITABLE},
            context=context_of(request),
        )
        messages.success(request, "Les modifications sont enregistrées.")
        return redirect("backoffice:centre", pk=centre.pk)
    return _centre_form_page(request, form, title=f"Modifier {centre.letter_name}", centre=centre)


@agent_required
def centre_close(request: AgentRequest, pk: int) -> HttpResponse:
    centre = _visible_centre(request, pk)
    form = CloseCentreForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with refusal_shown(
            request,
            success="Le centre est fermé : aucun nouveau code ne sera émis et son code en cours "
            "ne fonctionne plus.",
        ):
            flows.close_centre(
                actor=request.user,
                centre=centre,
                reason=form.cleaned_data["reason"],
                context=context_of(request),
            )
        return redirect("backoffice:centre", pk=centre.pk)
    return render(
        request,
        "backoffice/centre_close.html",
        {"title": f"Fermer {centre.letter_name}", "form": form, "centre": centre},
    )


@agent_required
@require_POST
def site_add(request: AgentRequest, pk: int) -> HttpResponse:
    centre = _visible_centre(request, pk)
    form = LinkedSiteForm(request.POST)
    if form.is_valid():
        with refusal_shown(request, form, success="Le site lié est ajouté.") as attempt:
            flows.link_site(
                actor=request.user,
                centre=centre,
                siret=form.cleaned_data["siret"],
                label=form.cleaned_data["label"],
                address=form.cleaned_data["address"],
                context=context_of(request),
            )
        if attempt.succeeded:
            return redirect("backoffice:centre", pk=centre.pk)
    return render(
        request,
        "backoffice/site_form.html",
        {"title": f"Ajouter un site lié à {centre.letter_name}", "form": form, "centre": centre},
    )


@agent_required
@require_POST
def site_remove(request: AgentRequest, pk: int, site_pk: int) -> HttpResponse:
    centre = _visible_centre(request, pk)
    site = get_object_or_404(LinkedSite, pk=site_pk, centre=centre)
    flows.remove_linked_site(actor=request.user, site=site, context=context_of(request))
    messages.success(request, "Le site lié est retiré.")
    return redirect("backoffice:centre", pk=centre.pk)


# --- Letters --------------------------------------------------------------------------------


@agent_required
@require_POST
def centre_letter(request: AgentRequest, pk: int) -> HttpResponse:
    """ "Générer le courrier": a new code, revoking the previous unused one, in a PDF."""
    centre = _visible_centre(request, pk)
    with refusal_shown(request) as attempt:
        generated = flows.generate_letters(
            actor=request.user,
            centres=[centre],
            source=LetterBatch.Source.SINGLE,
            description=centre.establishment.siret,
            context=context_of(request),
        )
    if not attempt.succeeded:
        return redirect("backoffice:centre", pk=centre.pk)
    return _file(
        generated.pdf,
        "application/pdf",
        f"courrier-ceres-{centre.establishment.siret}.pdf",
    )


def _letters_selection(
    request: AgentRequest,
) -> tuple[CentreFilterForm, Centres, CentreImport | None]:
    """The open centres of the letters page: those imported together, or those of the filter."""
    import_pk = request.POST.get("import") or request.GET.get("import")
    if not import_pk:
        form, queryset = _filtered_centres(request, request.POST or request.GET)
        return form, queryset.open(), None
    centre_import = get_object_or_404(CentreImport, pk=import_pk if str(import_pk).isdigit() else 0)
    queryset = Centre.objects.visible_to(request.agent).open().filter(imported_in=centre_import)
    return CentreFilterForm(agent=request.agent), queryset, centre_import


def _recent_batches(request: AgentRequest) -> QuerySet[LetterBatch]:
    batches = LetterBatch.objects.exclude(source=LetterBatch.Source.SINGLE)
    if not request.agent.is_national:
        batches = batches.filter(created_by=request.user)
    return batches.order_by("-created_at")[:20]


@agent_required
def letters(request: AgentRequest) -> HttpResponse:
    """Bulk letters for the centres matching a filter (or imported together)."""
    form, queryset, centre_import = _letters_selection(request)
    if request.method == "POST":
        with refusal_shown(request) as attempt:
            generated = flows.generate_selected_letters(
                actor=request.user,
                centres=queryset,
                centre_import=centre_import,
                description=_selection_label(form),
                context=context_of(request),
            )
        if not attempt.succeeded:
            return redirect("backoffice:letters")
        pdf_name = f"courriers-ceres-lot-{generated.batch.pk}.pdf"
        return _file(generated.pdf, "application/pdf", pdf_name)
    return render(
        request,
        "backoffice/letters.html",
        {
            "title": "Courriers en nombre",
            "form": form,
            "count": queryset.count(),
            "centre_import": centre_import,
            "batches": _recent_batches(request),
        },
    )


def _selection_label(form: CentreFilterForm) -> str:
    """What the agent selected, in words (never the raw POST: it holds the CSRF token)."""
    data = form.cleaned_data if form.is_valid() else {}
    parts = [
        f"recherche « {data['q']} »" if data.get("q") else "",
        f"région {data['region'].name}" if data.get("region") else "",
        f"activation : {ActivationStatus(data['status']).label}" if data.get("status") else "",
    ]
    return ", ".join(p for p in parts if p) or "tous les centres ouverts"


def _visible_batch(request: AgentRequest, pk: int) -> LetterBatch:
    batches = LetterBatch.objects.all()
    if not request.agent.is_national:
        batches = batches.filter(created_by=request.user)
    return get_object_or_404(batches, pk=pk)


@agent_required
def batch_csv(request: AgentRequest, pk: int) -> HttpResponse:
    batch = _visible_batch(request, pk)
    _audit_export(request, "letter_batch", batch=batch.pk)
    return _file(
        followup.batch_summary_csv(batch),
        CSV,
        f"synthese-courriers-lot-{batch.pk}.csv",
    )


@agent_required
def centre_import(request: AgentRequest) -> HttpResponse:
    form = CsvImportForm(request.POST or None, request.FILES or None)
    result = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        created, result = imports.import_centres(
            actor=request.user, raw=upload.read(), filename=upload.name, context=context_of(request)
        )
        if created is not None:
            messages.success(
                request,
                f"{created.line_count} centres importés. Vous pouvez générer leurs courriers.",
            )
            return redirect(f"{reverse('backoffice:letters')}?import={created.pk}")
    return render(
        request,
        "backoffice/import.html",
        {"title": "Importer des centres agréés", "form": form, "result": result},
    )


# --- Follow-up, journal ---------------------------------------------------------------------


@agent_required
def region_followup(request: AgentRequest) -> HttpResponse:
    return render(
        request,
        "backoffice/followup.html",
        {
            "title": "Suivi des activations",
            "counts": followup.region_counts(request.agent, flows.ceres()),
        },
    )


@agent_required
def regions_csv(request: AgentRequest) -> HttpResponse:
    _audit_export(request, "regions")
    return _file(
        followup.regions_csv(request.agent, flows.ceres()),
        CSV,
        "suivi-activations-regions.csv",
    )


@agent_required
def late_reviews(request: AgentRequest) -> HttpResponse:
    """Per region, how many centres' access reviews are late."""
    return render(
        request,
        "backoffice/late_reviews.html",
        {
            "title": "Revues des accès en retard",
            "counts": followup.late_review_counts(request.agent, flows.ceres()),
        },
    )


def _visible_region(request: AgentRequest, code: str) -> Region:
    region: Region = get_object_or_404(Region.objects.visible_to(request.agent), code=code)
    return region


@agent_required
def late_reviews_region(request: AgentRequest, code: str) -> HttpResponse:
    """The centres of a region whose access review is late."""
    region = _visible_region(request, code)
    centres = followup.late_review_centres(request.agent, flows.ceres(), region)
    page = Paginator(
        centres.select_related("establishment").order_by("review_deadline", "letter_name", "pk"),
        PAGE_SIZE,
    ).get_page(request.GET.get("page"))
    return render(
        request,
        "backoffice/late_reviews_region.html",
        {
            "title": f"Revues des accès en retard — {region.name}",
            "region": region,
            "page": page,
            "now": timezone.now(),
        },
    )


@agent_required
def late_reviews_csv(request: AgentRequest, code: str) -> HttpResponseBase:
    region = _visible_region(request, code)
    centres = followup.late_review_centres(request.agent, flows.ceres(), region)
    _audit_export(request, "late_reviews", region=region.code)
    return _streamed_csv(
        followup.csv_lines(
            followup.LATE_REVIEWS_HEADER,
            followup.late_reviews_rows(centres.order_by("review_deadline", "letter_name", "pk")),
        ),
        f"revues-des-acces-en-retard-{region.code}.csv",
    )


JOURNAL_PAGE_SIZE = 50


def _journal_page(
    request: AgentRequest, form: JournalFilterForm, *, status: int = 200
) -> HttpResponse:
    page = None
    if form.is_valid():
        events = agents_journal.filtered_events(request.agent, form.cleaned_data)
        paginator = agents_journal.CappedPaginator(events, JOURNAL_PAGE_SIZE)
        page = paginator.get_page(request.GET.get("page"))
        page.object_list = agents_journal.with_details(page.object_list)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "backoffice/journal.html",
        {
            "title": "Journal",
            "agent": request.agent,
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "export_max_rows": agents_journal.EXPORT_MAX_ROWS,
            # "50 000", as French writes it (a narrow no-break space between the thousands).
            "export_max_rows_text": f"{agents_journal.EXPORT_MAX_ROWS:,}".replace(",", "\u202f"),
        },
        status=status,
    )


@agent_required
def journal(request: AgentRequest) -> HttpResponse:
    """The events the agent may see, filtered by date, action, region, SIRET and account."""
    return _journal_page(request, JournalFilterForm(request.GET, agent=request.agent))


@agent_required
def journal_csv(request: AgentRequest) -> HttpResponseBase:
    """The filtered events as CSV, streamed; bad filters get the page and its messages."""
    form = JournalFilterForm(request.GET, agent=request.agent)
    if not form.is_valid():
        return _journal_page(request, form, status=400)
    filters = {name: str(value) for name, value in form.cleaned_data.items() if value}
    _audit_export(request, "journal", filters=filters)
    events = agents_journal.filtered_events(request.agent, form.cleaned_data)
    return _streamed_csv(
        followup.csv_lines(agents_journal.CSV_HEADER, agents_journal.csv_rows(events)),
        f"journal-{timezone.localdate():%Y-%m-%d}.csv",
    )


@agent_required
def webhooks(request: AgentRequest) -> HttpResponse:
    """Where the push of each démarche's habilitation changes stands (démarche-wide: every
    agent sees it; no person is named)."""
    return render(
        request,
        "backoffice/webhooks.html",
        {"title": "Flux des habilitations", "states": delivery_states()},
    )


# --- Support --------------------------------------------------------------------------------


@agent_required
def support_search(request: AgentRequest) -> HttpResponse:
    form = SupportSearchForm(request.GET or None)
    results = None
    if form.is_valid():
        results = list(support.search_accounts(form.cleaned_data["q"]))
    return render(
        request,
        "backoffice/support.html",
        {"title": "Assistance aux utilisateurs", "form": form, "results": results},
    )


def _account(public_id: UUID) -> User:
    return get_object_or_404(User, public_id=public_id)


@agent_required
def support_account(request: AgentRequest, public_id: UUID) -> HttpResponse:
    account = _account(public_id)
    habilitations = support.habilitations_of(account, request.agent)
    return render(
        request,
        "backoffice/support_account.html",
        {
            "title": f"Compte {account.email}",
            "account": account,
            "demarches": support.live_demarches(habilitations),
            "habilitations": habilitations,
            "events": support.recent_events(account),
            "waits": support.waits_for(account),
            "revoke_form": RevokeHabilitationForm(),
            "factors": mfa.factors_of(account),
            "reset_form": ResetFactorsForm(),
        },
    )


@agent_required
@require_POST
def support_resend_activation(request: AgentRequest, public_id: UUID) -> HttpResponse:
    account = _account(public_id)
    with refusal_shown(
        request, success=f"Un nouveau lien d’activation est envoyé à {account.email}."
    ):
        support.resend_activation_email(
            actor=request.user, user=account, context=context_of(request)
        )
    return redirect("backoffice:support_account", public_id=account.public_id)


@agent_required
@require_POST
def support_lift_wait(request: AgentRequest, public_id: UUID) -> HttpResponse:
    account = _account(public_id)
    lifted = support.lift_waits(actor=request.user, user=account, context=context_of(request))
    if lifted:
        messages.success(request, "L’attente est levée : la personne peut réessayer maintenant.")
    else:
        messages.info(request, "Aucune attente en cours pour ce compte.")
    return redirect("backoffice:support_account", public_id=account.public_id)


@agent_required
@require_POST
def support_revoke(request: AgentRequest, public_id: UUID, habilitation_pk: int) -> HttpResponse:
    account = _account(public_id)
    habilitation = get_object_or_404(Habilitation, pk=habilitation_pk, user=account)
    if not support.can_act_on(request.agent, habilitation):
        raise Http404
    form = RevokeHabilitationForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(map(str, form.errors["reason"])))
    else:
        with refusal_shown(request, success="L’habilitation est révoquée."):
            support.revoke_for_support(
                actor=request.user,
                habilitation=habilitation,
                reason=form.cleaned_data["reason"],
                context=context_of(request),
            )
    return redirect("backoffice:support_account", public_id=account.public_id)


@agent_required
@require_POST
def support_reset_factors(request: AgentRequest, public_id: UUID) -> HttpResponse:
    """Remove every second factor of the account, with a reason (journaled; the person is
    emailed): they sign in with their password alone, then enrol again."""
    account = _account(public_id)
    form = ResetFactorsForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(map(str, form.errors["reason"])))
    else:
        count = mfa.reset_factors(
            account,
            actor=request.user,
            reason=form.cleaned_data["reason"],
            context=context_of(request),
        )
        messages.success(
            request,
            f"Double authentification réinitialisée ({count} moyen{'s' if count > 1 else ''} "
            f"de vérification supprimé{'s' if count > 1 else ''}) ; la personne est prévenue "
            "par courriel.",
        )
    return redirect("backoffice:support_account", public_id=account.public_id)
