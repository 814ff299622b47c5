"""The gestionnaire's access review: the page of one review and its three answers. Thin: the
review of a company the user manages (404 for anyone else), one flow per answer (its refusal
shown with `refusal_shown`), back to the page."""

from typing import TYPE_CHECKING

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from portail.core.context import context_of
from portail.core.refusals import refusal_shown
from portail.demarches.models import Demarche
from portail.habilitations import access_review as reviews
from portail.habilitations.gate import check_strong_auth, strong_auth_gate
from portail.habilitations.models import AccessReview, AccessReviewItem

if TYPE_CHECKING:
    from portail.accounts.models import User

    class UserRequest(HttpRequest):
        user: User


def _review(request: "UserRequest", code: str, pk: int, *, step_up: bool = False) -> AccessReview:
    """The review `pk` of `code`, if the user manages its company; 404 otherwise (the same for
    a review that does not exist: nothing is revealed)."""
    demarche = Demarche.objects.filter(code=code, is_active=True).first()
    if demarche is None:
        raise Http404
    sirens = reviews.answering_sirens(request.user, demarche)
    review = (
        AccessReview.objects.filter(demarche=demarche, siren__in=sirens, pk=pk)
        .select_related("demarche", "establishment", "completed_by")
        .first()
    )
    if review is None:
        raise Http404
    # After the second factor, back to the review's page (the answers are POST only).
    page = reverse("habilitations:review", args=[demarche.code, review.pk])
    check_strong_auth(request, demarche, step_up=step_up, next_url=page)
    return review


@require_GET
@never_cache
@strong_auth_gate
def review(request: "UserRequest", code: str, pk: int) -> HttpResponse:
    found = _review(request, code, pk)
    items = reviews.items_of(found)
    now = timezone.now()
    pending = [item for item in items if item.decision == AccessReviewItem.Decision.PENDING]
    return render(
        request,
        "habilitations/review.html",
        {
            "title": f"Revue des accès {found.demarche.short_label}",
            "demarche": found.demarche,
            "review": found,
            "items": items,
            "pending_count": sum(1 for item in pending if item.habilitation.revoked_at is None),
            "overdue": found.lapsed_at is not None or found.is_overdue(now),
            "ends_at": reviews.ends_at(found),
            "takes_answers": found.closed_at is None,
        },
    )


def _back(code: str, pk: int) -> HttpResponse:
    return redirect("habilitations:review", code=code, pk=pk)


@require_POST
@strong_auth_gate
def confirm_all(request: "UserRequest", code: str, pk: int) -> HttpResponse:
    found = _review(request, code, pk)
    with refusal_shown(request, success="Les accès sont confirmés : la revue est terminée."):
        reviews.confirm_all(actor=request.user, review=found, context=context_of(request))
    return _back(code, pk)


@require_POST
@strong_auth_gate
def confirm_one(request: "UserRequest", code: str, pk: int, item_pk: int) -> HttpResponse:
    found = _review(request, code, pk)
    with refusal_shown(request, success="L’accès est confirmé."):
        reviews.confirm_one(
            actor=request.user, review=found, item_pk=item_pk, context=context_of(request)
        )
    if request.POST.get("next") == "manage":
        return redirect("habilitations:manage", code=code)
    return _back(code, pk)


@require_POST
@strong_auth_gate
def remove_one(request: "UserRequest", code: str, pk: int, item_pk: int) -> HttpResponse:
    # Removing an access is sensitive: the factor checked within 15 minutes, where asked.
    found = _review(request, code, pk, step_up=True)
    with refusal_shown(request, success="L’accès est retiré."):
        reviews.remove_one(
            actor=request.user, review=found, item_pk=item_pk, context=context_of(request)
        )
    return _back(code, pk)
