"""The periodic access review (issue #14, decision 0021): every `Demarche.access_review_months`,
the gestionnaires of each company confirm who still holds access.

A review covers one company (a SIREN) of one démarche: the live habilitations on the
establishments its gestionnaires manage (the perimeter rule, `portail.centres.perimeter`). The
gestionnaires confirm or remove them person by person, or confirm all that remain at once ("Je
confirme ces accès"). Reminders go `ACCESS_REVIEW_REMINDER_DAYS` before the deadline; at the
deadline the accesses nobody confirmed are suspended (the person is told, the démarche learns it
from its feed), then ended `ACCESS_REVIEW_GRACE_DAYS` later unless a gestionnaire confirms them
meanwhile.

The gestionnaires' changes are flows (one transaction each, the review's row locked first, the
rules checked again, journaled); `run_access_reviews(now)` is the job that opens, reminds,
suspends and ends: a housekeeping chore (the worker runs it every 10 minutes, cheap when nothing
is due; `manage.py housekeeping` from cron does the same).
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import F, Max, Min, Q, QuerySet
from django.urls import reverse
from django.utils import formats, timezone

from portail.audit.journal import record
from portail.centres.perimeter import establishment_ids_covered_by
from portail.companies.models import Establishment
from portail.core.context import SYSTEM, Context
from portail.demarches.models import Demarche, Role
from portail.habilitations import flows
from portail.habilitations.grants import (
    HabilitationError,
    resume_habilitation,
    revoke_habilitation,
    suspend_habilitation,
)
from portail.habilitations.models import AccessReview, AccessReviewItem, Habilitation
from portail.habilitations.scope import managed_siren_list
from portail.notifications.emails import send_email

if TYPE_CHECKING:
    from portail.accounts.models import User

Decision = AccessReviewItem.Decision
REMOVED_REASON = "Retirée lors de la revue des accès"
ENDED_REASON = "Accès non confirmé lors de la revue des accès"


class ReviewError(HabilitationError):
    """The review refused the answer; nothing changed."""


def response_days() -> int:
    return int(getattr(settings, "ACCESS_REVIEW_RESPONSE_DAYS", 30))


def reminder_days() -> list[int]:
    return sorted(getattr(settings, "ACCESS_REVIEW_REMINDER_DAYS", [30, 7, 1]), reverse=True)


def grace_days() -> int:
    return int(getattr(settings, "ACCESS_REVIEW_GRACE_DAYS", 30))


def ends_at(review: AccessReview) -> datetime:
    """When the accesses suspended at the deadline end, unless confirmed."""
    return review.deadline + timedelta(days=grace_days())


def add_months(moment: datetime, months: int) -> datetime:
    """`moment` `months` later, on the same day of the month (or the last day of a shorter one)."""
    month = moment.month - 1 + months
    year, month = moment.year + month // 12, month % 12 + 1
    for day in (moment.day, 30, 29, 28):
        try:
            return moment.replace(year=year, month=month, day=min(moment.day, day))
        except ValueError:
            continue
    raise ValueError(moment)  # pragma: no cover - day 28 exists in every month


def review_url(review: AccessReview) -> str:
    return settings.PORTAL_BASE_URL + reverse(
        "habilitations:review", args=[review.demarche.code, review.pk]
    )


def _date(value: datetime) -> str:
    return str(formats.date_format(timezone.localtime(value), "j F Y"))


def _label(user: "User | None") -> str:
    return str(user) if user is not None else "le système"


# --- Reads ------------------------------------------------------------------------------------


def gestionnaires_of_review(review: AccessReview) -> "QuerySet[User]":
    """The active accounts that manage the review's démarche for its company (its SIREN),
    those the review suspended included: they may still confirm (`answering_sirens`)."""
    # Plain lists of ids, each query on its index: joined, PostgreSQL scans every habilitation
    # of the démarche and every account (0.3 s on 100,000).
    establishments = list(
        Establishment.objects.filter(siren=review.siren).values_list("pk", flat=True)
    )
    roles = list(
        Role.objects.filter(demarche_id=review.demarche_id, can_manage=True).values_list(
            "pk", flat=True
        )
    )
    managing = list(
        Habilitation.objects.live()
        .filter(
            demarche_id=review.demarche_id, establishment_id__in=establishments, role_id__in=roles
        )
        .values_list("user_id", flat=True)
    )
    return get_user_model().objects.filter(is_active=True, pk__in=managing).order_by("pk")


def answering_sirens(user: "User", demarche: Demarche) -> list[str]:
    """The companies whose reviews `user` may answer: those they manage, and those where the
    review itself suspended their managing role (else a company whose gestionnaires all missed
    the deadline could confirm nobody, themselves included, before the accesses end)."""
    if not getattr(user, "is_authenticated", False):
        return []
    suspended_by_review = (
        Habilitation.objects.suspended()
        .filter(
            user=user,
            demarche=demarche,
            role__can_manage=True,
            suspension_reason=Habilitation.Suspension.REVIEW_OVERDUE,
        )
        .order_by()
        .values_list("establishment__siren", flat=True)
    )
    return sorted(set(managed_siren_list(user, demarche)) | set(suspended_by_review))


def may_answer(user: "User", review: AccessReview) -> bool:
    return review.siren in answering_sirens(user, review.demarche)


@dataclass
class ReviewSummary:
    """What the management page says of the reviews of its scope."""

    open: list[AccessReview]
    last_completed: AccessReview | None
    suspended: list[AccessReviewItem]


def summary(demarche: Demarche, scope_ids: list[int], limit: int = 100) -> ReviewSummary:
    """The open reviews, the last completed one and the accesses suspended by a review, of the
    companies filed on the establishments `scope_ids`: one query, and one more for the
    suspended accesses once a review passed its deadline."""
    reviews = AccessReview.objects.filter(demarche=demarche, establishment_id__in=scope_ids)
    rows = list(
        reviews.filter(Q(closed_at__isnull=True) | Q(completed_at__isnull=False))
        .select_related("completed_by")
        .order_by(F("completed_at").desc(nulls_first=True), "deadline")[:limit]
    )
    still_open = [r for r in rows if r.completed_at is None and r.closed_at is None]
    lapsed = [r.pk for r in still_open if r.lapsed_at is not None]
    suspended = (
        AccessReviewItem.objects.filter(
            review_id__in=lapsed,
            decision=Decision.PENDING,
            habilitation__suspended_at__isnull=False,
            habilitation__revoked_at__isnull=True,
        )
        .select_related(
            "review", "habilitation__user", "habilitation__role", "habilitation__establishment"
        )
        .order_by("habilitation__user__last_name", "pk")[:limit]
    )
    return ReviewSummary(
        open=still_open,
        last_completed=next((r for r in rows if r.completed_at is not None), None),
        suspended=list(suspended) if lapsed else [],
    )


def items_of(review: AccessReview) -> list[AccessReviewItem]:
    """The review's lines, with the person, the role and the establishment (one query)."""
    return list(
        review.items.select_related(
            "habilitation__user",
            "habilitation__role",
            "habilitation__establishment",
            "decided_by",
        ).order_by("habilitation__role__order", "habilitation__user__last_name", "pk")
    )


# --- The gestionnaires' answers ------------------------------------------------------------


def _lock_review(actor: "User", review: AccessReview) -> AccessReview:
    """The review locked, once the actor is still one of its gestionnaires and it still takes
    answers; ReviewError otherwise (nothing changed)."""
    review = (
        AccessReview.objects.select_for_update(of=("self",))
        .select_related("demarche", "establishment", "completed_by")
        .get(pk=review.pk)
    )
    if not may_answer(actor, review):
        raise ReviewError(
            "Vous n’êtes plus gestionnaire de cette entreprise pour la démarche "
            f"{review.demarche.short_label} : vous ne pouvez pas répondre à cette revue des accès."
        )
    if review.completed_at is not None:
        raise ReviewError(
            f"Cette revue des accès a déjà été validée le {_date(review.completed_at)} par "
            f"{_label(review.completed_by)} : rien n’a été modifié."
        )
    if review.closed_at is not None:
        raise ReviewError(
            f"Cette revue des accès est close depuis le {_date(review.closed_at)} : les accès "
            "non confirmés ont pris fin. Invitez à nouveau les personnes concernées."
        )
    return review


def _lock_pending_item(review: AccessReview, item_pk: int) -> AccessReviewItem:
    item = (
        AccessReviewItem.objects.select_for_update(of=("self",))
        .select_related("habilitation__user", "habilitation__role", "habilitation__establishment")
        .filter(review=review, pk=item_pk)
        .first()
    )
    if item is None:
        raise ReviewError("Cette personne ne fait pas partie de cette revue des accès.")
    if item.decision != Decision.PENDING:
        raise ReviewError(
            f"L’accès de {item.habilitation.user} a déjà été "
            f"{'confirmé' if item.decision == Decision.CONFIRMED else 'retiré'}"
            f" le {_date(item.decided_at or timezone.now())} : rien n’a été modifié."
        )
    if item.habilitation.revoked_at is not None:
        raise ReviewError(f"L’accès de {item.habilitation.user} a déjà pris fin.")
    return item


def _confirm(actor: "User", item: AccessReviewItem, now: datetime, context: Context) -> None:
    """Confirm one line (its review locked): a habilitation suspended by the review resumes."""
    habilitation = item.habilitation
    if habilitation.suspended_at is not None and (
        habilitation.suspension_reason == Habilitation.Suspension.REVIEW_OVERDUE
    ):
        resume_habilitation(actor=actor, habilitation=habilitation, context=context)
        send_email(
            "habilitations/emails/access_resumed",
            habilitation.user.email,
            {"habilitation": habilitation, "actor": str(actor)},
            category="habilitation",
            demarche=item.review.demarche,
            establishment=habilitation.establishment,
        )
    item.decision = Decision.CONFIRMED
    item.decided_by = actor
    item.decided_at = now
    item.save(update_fields=["decision", "decided_by", "decided_at"])


def _pending(review: AccessReview) -> QuerySet[AccessReviewItem]:
    """The lines still to answer (whose habilitation has not ended meanwhile)."""
    return review.items.filter(decision=Decision.PENDING, habilitation__revoked_at__isnull=True)


def _complete_if_done(actor: "User", review: AccessReview, now: datetime, context: Context) -> bool:
    if _pending(review).exists():
        return False
    review.completed_at = now
    review.completed_by = actor
    review.closed_at = now
    review.save(update_fields=["completed_at", "completed_by", "closed_at"])
    counts = dict.fromkeys(Decision.values, 0)
    for decision in review.items.values_list("decision", flat=True):
        counts[decision] += 1
    _journal("access_review.completed", review, actor, context, counts)
    return True


def _journal(
    action: str, review: AccessReview, actor: "User | None", context: Context, data: dict[str, Any]
) -> None:
    record(
        action,
        actor=actor,
        target=review,
        demarche=review.demarche,
        establishment=review.establishment,
        context=context,
        data={"siren": review.siren, **data},
    )


def confirm_all(*, actor: "User", review: AccessReview, context: Context = SYSTEM) -> int:
    """ "Je confirme ces accès": every line still pending is confirmed, the review completed.
    Returns how many lines were confirmed."""
    now = timezone.now()
    with transaction.atomic():
        review = _lock_review(actor, review)
        items = list(
            _pending(review)
            .select_for_update(of=("self",))
            .select_related(
                "habilitation__user", "habilitation__role", "habilitation__establishment"
            )
            .order_by("pk")
        )
        for item in items:
            item.review = review
            _confirm(actor, item, now, context)
        _journal(
            "access_review.confirmed_all",
            review,
            actor,
            context,
            {"confirmed": [item.habilitation.user.email for item in items]},
        )
        _complete_if_done(actor, review, now, context)
    return len(items)


def confirm_one(
    *, actor: "User", review: AccessReview, item_pk: int, context: Context = SYSTEM
) -> AccessReviewItem:
    """Confirm one person's access (resumed if the deadline had suspended it)."""
    now = timezone.now()
    with transaction.atomic():
        review = _lock_review(actor, review)
        item = _lock_pending_item(review, item_pk)
        item.review = review
        _confirm(actor, item, now, context)
        _journal(
            "access_review.access_confirmed",
            review,
            actor,
            context,
            {"user": item.habilitation.user.email, "role": item.habilitation.role.code},
        )
        _complete_if_done(actor, review, now, context)
    return item


def remove_one(
    *, actor: "User", review: AccessReview, item_pk: int, context: Context = SYSTEM
) -> AccessReviewItem:
    """Remove one person's access: the gestionnaire's revocation (its last-gestionnaire rule,
    its email to the person), recorded on the review's line."""
    now = timezone.now()
    with transaction.atomic():
        review = _lock_review(actor, review)
        item = _lock_pending_item(review, item_pk)
        flows.revoke(
            actor=actor, habilitation=item.habilitation, reason=REMOVED_REASON, context=context
        )
        item.decision = Decision.REMOVED
        item.decided_by = actor
        item.decided_at = now
        item.save(update_fields=["decision", "decided_by", "decided_at"])
        _journal(
            "access_review.access_removed",
            review,
            actor,
            context,
            {"user": item.habilitation.user.email, "role": item.habilitation.role.code},
        )
        _complete_if_done(actor, review, now, context)
    return item


# --- The job ----------------------------------------------------------------------------------


def _email_gestionnaires(review: AccessReview, template: str, data: dict[str, Any]) -> int:
    sent = 0
    for gestionnaire in gestionnaires_of_review(review):
        send_email(
            f"habilitations/emails/{template}",
            gestionnaire.email,
            {"review": review, "gestionnaire": gestionnaire, "link": review_url(review), **data},
            category="habilitation",
            demarche=review.demarche,
            establishment=review.establishment,
        )
        sent += 1
    return sent


def due_companies(demarche: Demarche, now: datetime) -> list[tuple[str, int]]:
    """The companies (SIREN, the establishment to file the review on) of `demarche` whose
    review is due: `access_review_months` after the last one opened, or after their first
    managing habilitation; none while one is open. Two grouped queries."""
    months = demarche.access_review_months
    managed = (
        Habilitation.objects.active(now)
        .filter(demarche=demarche, role__can_manage=True)
        .order_by()
        .values("establishment__siren")
        .annotate(first=Min("granted_at"), anchor=Min("establishment_id"))
    )
    reviews = {
        row["siren"]: row
        for row in AccessReview.objects.filter(demarche=demarche)
        .order_by()
        .values("siren")
        .annotate(last=Max("opened_at"), still_open=Min("closed_at"))
    }
    open_sirens = set(
        AccessReview.objects.open().filter(demarche=demarche).values_list("siren", flat=True)
    )
    due = []
    for row in managed:
        siren = row["establishment__siren"]
        if siren in open_sirens:
            continue
        since = reviews[siren]["last"] if siren in reviews else row["first"]
        if add_months(since, months) <= now:
            due.append((siren, row["anchor"]))
    return due


def open_review(demarche: Demarche, siren: str, anchor_id: int, now: datetime) -> bool:
    """Open the review of one company: its lines, its journal event, the gestionnaires' email.
    False when another run opened it first."""
    deadline = now + timedelta(days=response_days())
    scope = establishment_ids_covered_by([siren])
    try:
        with transaction.atomic():
            review = AccessReview.objects.create(
                demarche=demarche,
                siren=siren,
                establishment=Establishment.objects.get(pk=anchor_id),
                opened_at=now,
                deadline=deadline,
                reminded_days=min(
                    (d for d in reminder_days() if d >= response_days()), default=None
                ),
            )
            habilitation_ids = (
                Habilitation.objects.active(now)
                .filter(demarche=demarche, establishment_id__in=scope)
                .values_list("pk", flat=True)
            )
            AccessReviewItem.objects.bulk_create(
                [AccessReviewItem(review=review, habilitation_id=pk) for pk in habilitation_ids]
            )
            _journal(
                "access_review.opened",
                review,
                None,
                SYSTEM,
                {"deadline": deadline.isoformat(), "people": len(habilitation_ids)},
            )
            _email_gestionnaires(review, "access_review_opened", {"deadline": deadline})
    except IntegrityError:
        return False
    return True


def _locked_for_job(pk: int) -> AccessReview:
    """A review the nightly job works on, locked until its step commits, with what its emails
    name (the démarche, the establishment)."""
    return (
        AccessReview.objects.select_for_update(of=("self",))
        .select_related("demarche", "establishment")
        .get(pk=pk)
    )


def send_reminders(now: datetime) -> int:
    """One reminder per review that reached a reminder day it was not yet reminded of."""
    days = reminder_days()
    if not days:
        return 0
    # A review is due a reminder when it reached a reminder day it was not yet reminded of.
    due = Q()
    for day in days:
        due |= Q(deadline__lte=now + timedelta(days=day)) & (
            Q(reminded_days__isnull=True) | Q(reminded_days__gt=day)
        )
    candidates = (
        AccessReview.objects.open()
        .filter(completed_at__isnull=True, lapsed_at__isnull=True, deadline__gt=now)
        .filter(due)
    )
    sent = 0
    for pk in candidates.order_by("deadline", "pk").values_list("pk", flat=True):
        with transaction.atomic():
            review = _locked_for_job(pk)
            if review.closed_at is not None or review.lapsed_at is not None:
                continue
            left = review.deadline - now
            reached = [d for d in days if left <= timedelta(days=d)]
            if not reached or (
                review.reminded_days is not None and review.reminded_days <= min(reached)
            ):
                continue
            review.reminded_days = min(reached)
            review.save(update_fields=["reminded_days"])
            _email_gestionnaires(
                review,
                "access_review_reminder",
                {"deadline": review.deadline, "days": min(reached)},
            )
            _journal("access_review.reminded", review, None, SYSTEM, {"days": min(reached)})
            sent += 1
    return sent


def lapse_overdue(now: datetime) -> int:
    """At the deadline: the lines nobody answered are suspended, their holders told."""
    done = 0
    overdue = AccessReview.objects.open().filter(lapsed_at__isnull=True, deadline__lte=now)
    for pk in overdue.order_by("deadline", "pk").values_list("pk", flat=True):
        with transaction.atomic():
            review = _locked_for_job(pk)
            if review.closed_at is not None or review.lapsed_at is not None:
                continue
            items = list(
                _pending(review)
                .select_related(
                    "habilitation__user", "habilitation__role", "habilitation__establishment"
                )
                .order_by("pk")
            )
            suspended = []
            for item in items:
                habilitation = item.habilitation
                if habilitation.suspended_at is not None:
                    continue
                suspend_habilitation(
                    actor=None,
                    habilitation=habilitation,
                    reason=Habilitation.Suspension.REVIEW_OVERDUE,
                )
                send_email(
                    "habilitations/emails/access_suspended",
                    habilitation.user.email,
                    {"habilitation": habilitation, "review": review, "ends_at": ends_at(review)},
                    category="habilitation",
                    demarche=review.demarche,
                    establishment=habilitation.establishment,
                )
                suspended.append(habilitation.user.email)
            review.lapsed_at = now
            review.save(update_fields=["lapsed_at"])
            _journal("access_review.lapsed", review, None, SYSTEM, {"suspended": suspended})
            if suspended:
                _email_gestionnaires(
                    review,
                    "access_review_lapsed",
                    {"count": len(suspended), "ends_at": ends_at(review)},
                )
            done += 1
    return done


def end_unconfirmed(now: datetime) -> int:
    """`ACCESS_REVIEW_GRACE_DAYS` after the deadline: the accesses still suspended end, the
    review closes."""
    done = 0
    closing = AccessReview.objects.open().filter(
        lapsed_at__isnull=False, deadline__lte=now - timedelta(days=grace_days())
    )
    for pk in closing.order_by("deadline", "pk").values_list("pk", flat=True):
        with transaction.atomic():
            review = _locked_for_job(pk)
            if review.closed_at is not None:
                continue
            ended = []
            for item in _pending(review).select_related(
                "habilitation__user", "habilitation__role", "habilitation__establishment"
            ):
                habilitation = item.habilitation
                if habilitation.suspension_reason == Habilitation.Suspension.REVIEW_OVERDUE:
                    revoke_habilitation(actor=None, habilitation=habilitation, reason=ENDED_REASON)
                    send_email(
                        "habilitations/emails/habilitation_revoked",
                        habilitation.user.email,
                        {
                            "habilitation": habilitation,
                            "actor": "La revue des accès",
                            "reason": ENDED_REASON,
                        },
                        category="habilitation",
                        demarche=review.demarche,
                        establishment=habilitation.establishment,
                    )
                    ended.append(habilitation.user.email)
                item.decision = Decision.ENDED
                item.decided_at = now
                item.save(update_fields=["decision", "decided_at"])
            review.closed_at = now
            review.save(update_fields=["closed_at"])
            _journal("access_review.closed", review, None, SYSTEM, {"ended": ended})
            done += 1
    return done


def run_access_reviews(
    now: datetime | None = None, demarches: Iterable[Demarche] | None = None
) -> dict[str, int]:
    """The job: open the reviews due, send the reminders, suspend at the deadline, end after
    the grace period. `now`: the moment it acts as if it were (tests move time with it)."""
    now = now or timezone.now()
    if demarches is None:
        demarches = Demarche.objects.filter(is_active=True, access_review_months__gt=0)
    opened = 0
    for demarche in demarches:
        for siren, anchor in due_companies(demarche, now):
            opened += open_review(demarche, siren, anchor, now)
    return {
        "opened": opened,
        "reminded": send_reminders(now),
        "lapsed": lapse_overdue(now),
        "closed": end_unconfirmed(now),
    }


def access_reviews_chore() -> int:
    """The housekeeping chore: how many reviews the job opened, reminded, lapsed or closed."""
    return sum(run_access_reviews().values())
