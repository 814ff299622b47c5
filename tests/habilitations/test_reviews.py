"""The periodic access review (issue #14 item 1): the job opens, reminds, suspends and ends;
the gestionnaires confirm or remove; bad answers are refused and change nothing."""

from datetime import timedelta

import pytest

from portail.audit.models import AuditEvent
from portail.habilitations import access_review as reviews
from portail.habilitations import flows
from portail.habilitations.grants import revoke_habilitation
from portail.habilitations.models import (
    AccessReview,
    AccessReviewItem,
    Habilitation,
    HabilitationChange,
)
from portail.notifications.models import OutboxEmail
from tests.habilitations.factories import backdate, build_world, habilitate, item_of, person

pytestmark = pytest.mark.django_db

Decision = AccessReviewItem.Decision


def test_the_job_opens_one_review_per_company_listing_every_person_and_role(reviewed):
    review = reviewed.review
    assert review.establishment == reviewed.head
    assert review.deadline == reviewed.now + timedelta(days=30)
    lines = {
        (i.habilitation.user.email, i.habilitation.role.code, i.decision)
        for i in review.items.select_related("habilitation__user", "habilitation__role")
    }
    assert lines == {
        ("guy.duponttest@cfi.fr", "gestionnaire-centres", "pending"),
        ("guy.duponttest@cfi.fr", "centre-agree", "pending"),
        ("claire.centre@cfi.fr", "centre-agree", "pending"),
        ("bernard@cfi.fr", "centre-agree", "pending"),
    }
    opened = OutboxEmail.objects.get(
        recipient="guy.duponttest@cfi.fr", template="habilitations/emails/access_review_opened"
    )
    assert "Revue des accès CERES à faire avant le " in opened.subject
    assert f"/habilitations/ceres/revue-des-acces/{review.pk}/" in opened.body_text
    event = AuditEvent.objects.get(action="access_review.opened", target_id=str(review.pk))
    assert event.data["people"] == 4
    # A second run opens nothing more.
    assert reviews.run_access_reviews(now=reviewed.now)["opened"] == 0
    assert AccessReview.objects.count() == 2


def test_no_review_before_the_period_nor_for_a_demarche_without_one():
    world = build_world()
    world.demarche.access_review_months = 12
    world.demarche.save(update_fields=["access_review_months"])
    assert reviews.run_access_reviews()["opened"] == 0  # granted today
    world.demarche.access_review_months = 0
    world.demarche.save(update_fields=["access_review_months"])
    backdate()
    assert reviews.run_access_reviews()["opened"] == 0
    assert not AccessReview.objects.exists()


def test_the_next_review_opens_a_period_after_the_last_one(reviewed):
    reviews.confirm_all(actor=reviewed.gestionnaire, review=reviewed.review)
    later = reviewed.now + timedelta(days=200)
    assert reviews.run_access_reviews(now=later)["opened"] == 0
    year_later = reviewed.now + timedelta(days=366)
    assert reviews.run_access_reviews(now=year_later)["opened"] == 1  # 202's is still open
    assert AccessReview.objects.filter(siren=reviewed.head.siren).count() == 2


def test_je_confirme_ces_acces_confirms_every_remaining_line_and_completes(reviewed):
    claire = item_of(reviewed.review, reviewed.centre_user)
    reviews.confirm_one(actor=reviewed.gestionnaire, review=reviewed.review, item_pk=claire.pk)

    confirmed = reviews.confirm_all(actor=reviewed.gestionnaire, review=reviewed.review)

    assert confirmed == 3
    review = AccessReview.objects.get(pk=reviewed.review.pk)
    assert review.completed_by == reviewed.gestionnaire
    assert review.completed_at is not None
    assert review.closed_at == review.completed_at
    assert set(review.items.values_list("decision", flat=True)) == {Decision.CONFIRMED}
    assert set(review.items.values_list("decided_by", flat=True)) == {reviewed.gestionnaire.pk}
    completed = AuditEvent.objects.get(action="access_review.completed")
    assert completed.actor_id == reviewed.gestionnaire.pk
    assert completed.data["confirmed"] == 4


def test_a_review_submitted_twice_is_refused_and_changes_nothing(reviewed):
    reviews.confirm_all(actor=reviewed.gestionnaire, review=reviewed.review)
    events, emails = AuditEvent.objects.count(), OutboxEmail.objects.count()
    review = AccessReview.objects.get(pk=reviewed.review.pk)

    with pytest.raises(reviews.ReviewError, match=r"a déjà été validée le .* par Guy Duponttest"):
        reviews.confirm_all(actor=reviewed.gestionnaire, review=reviewed.review)
    item = item_of(reviewed.review, reviewed.centre_user)
    with pytest.raises(reviews.ReviewError, match="déjà été validée"):
        reviews.remove_one(actor=reviewed.gestionnaire, review=reviewed.review, item_pk=item.pk)

    assert (AuditEvent.objects.count(), OutboxEmail.objects.count()) == (events, emails)
    assert AccessReview.objects.get(pk=review.pk).completed_at == review.completed_at
    assert Habilitation.objects.active().filter(user=reviewed.centre_user).exists()


def test_someone_no_longer_gestionnaire_is_refused_and_nothing_changes(reviewed):
    second = person("Sophie", "Seconde", reviewed.head, email="sophie@cfi.fr")
    managing = habilitate(second, reviewed.manager_role, reviewed.head)
    from django.db import transaction

    with transaction.atomic():
        revoke_habilitation(actor=None, habilitation=managing)
    events = AuditEvent.objects.count()

    with pytest.raises(reviews.ReviewError, match="Vous n’êtes plus gestionnaire"):
        reviews.confirm_all(actor=second, review=reviewed.review)
    with pytest.raises(reviews.ReviewError, match="Vous n’êtes plus gestionnaire"):
        reviews.confirm_all(actor=reviewed.foreign_gestionnaire, review=reviewed.review)

    assert AuditEvent.objects.count() == events
    assert not reviewed.review.items.exclude(decision=Decision.PENDING).exists()


def test_removing_a_person_revokes_through_the_gestionnaire_flow(reviewed):
    claire = item_of(reviewed.review, reviewed.centre_user)

    reviews.remove_one(actor=reviewed.gestionnaire, review=reviewed.review, item_pk=claire.pk)

    claire.refresh_from_db()
    assert claire.decision == Decision.REMOVED
    assert claire.decided_by == reviewed.gestionnaire
    habilitation = Habilitation.objects.get(pk=claire.habilitation_id)
    assert habilitation.revoked_at is not None
    assert habilitation.revoke_reason == reviews.REMOVED_REASON
    assert OutboxEmail.objects.filter(
        recipient="claire.centre@cfi.fr", template="habilitations/emails/habilitation_revoked"
    ).exists()
    assert HabilitationChange.objects.filter(
        user=reviewed.centre_user, kind=HabilitationChange.Kind.REVOKED
    ).exists()
    # Removed once: a second removal is refused.
    with pytest.raises(reviews.ReviewError, match="déjà été retiré"):
        reviews.remove_one(actor=reviewed.gestionnaire, review=reviewed.review, item_pk=claire.pk)


def test_the_last_gestionnaire_cannot_be_removed_by_the_review(reviewed):
    guy = item_of(reviewed.review, reviewed.gestionnaire, reviewed.manager_role)
    with pytest.raises(flows.LastGestionnaireError):
        reviews.remove_one(actor=reviewed.gestionnaire, review=reviewed.review, item_pk=guy.pk)
    guy.refresh_from_db()
    assert guy.decision == Decision.PENDING
    assert Habilitation.objects.active().filter(pk=guy.habilitation_id).exists()


def test_a_line_of_another_review_is_not_found(reviewed):
    fanny = reviewed.foreign_review.items.get()
    with pytest.raises(reviews.ReviewError, match="ne fait pas partie"):
        reviews.confirm_one(actor=reviewed.gestionnaire, review=reviewed.review, item_pk=fanny.pk)


def test_reminders_at_seven_then_one_day_before_the_deadline_each_sent_once(reviewed):
    deadline = reviewed.review.deadline
    template = "habilitations/emails/access_review_reminder"

    assert reviews.run_access_reviews(now=deadline - timedelta(days=10))["reminded"] == 0
    assert reviews.run_access_reviews(now=deadline - timedelta(days=7))["reminded"] == 2
    assert reviews.run_access_reviews(now=deadline - timedelta(days=6))["reminded"] == 0
    reviews.confirm_all(actor=reviewed.foreign_gestionnaire, review=reviewed.foreign_review)
    assert reviews.run_access_reviews(now=deadline - timedelta(hours=20))["reminded"] == 1

    reminders = OutboxEmail.objects.filter(template=template, recipient="guy.duponttest@cfi.fr")
    assert [e.subject.split(" : ")[0].split("] ")[-1] for e in reminders] == ["Rappel"] * 2
    assert "Il reste 1 jour" in reminders.order_by("-pk").first().body_text
    assert OutboxEmail.objects.filter(template=template, recipient="fanny@autre.fr").count() == 1


def test_after_the_deadline_unconfirmed_accesses_are_suspended_then_ended(reviewed):
    claire = item_of(reviewed.review, reviewed.centre_user)
    reviews.confirm_one(actor=reviewed.gestionnaire, review=reviewed.review, item_pk=claire.pk)
    guy_manager = item_of(reviewed.review, reviewed.gestionnaire, reviewed.manager_role)
    reviews.confirm_one(actor=reviewed.gestionnaire, review=reviewed.review, item_pk=guy_manager.pk)
    after = reviewed.review.deadline + timedelta(minutes=1)

    assert reviews.run_access_reviews(now=after)["lapsed"] == 2

    suspended = Habilitation.objects.suspended()
    assert {(h.user.email, h.role.code) for h in suspended} == {
        ("guy.duponttest@cfi.fr", "centre-agree"),
        ("bernard@cfi.fr", "centre-agree"),
        ("fanny@autre.fr", "gestionnaire-centres"),
    }
    assert {h.suspension_reason for h in suspended} == {Habilitation.Suspension.REVIEW_OVERDUE}
    assert not Habilitation.objects.active().filter(user=reviewed.bernard).exists()
    assert Habilitation.objects.active().filter(user=reviewed.centre_user).exists()
    told = OutboxEmail.objects.get(
        recipient="bernard@cfi.fr", template="habilitations/emails/access_suspended"
    )
    assert "n’a pas été confirmé lors de la revue des accès" in told.body_text
    assert HabilitationChange.objects.filter(
        user=reviewed.bernard, kind=HabilitationChange.Kind.SUSPENDED
    ).exists()
    # Run again: nothing more.
    assert reviews.run_access_reviews(now=after)["lapsed"] == 0

    # A gestionnaire confirms Guy's during the grace period: resumed.
    guy_centre = item_of(reviewed.review, reviewed.gestionnaire, reviewed.centre_role)
    reviews.confirm_one(actor=reviewed.gestionnaire, review=reviewed.review, item_pk=guy_centre.pk)
    assert Habilitation.objects.active().filter(pk=guy_centre.habilitation_id).exists()

    # 30 days after the deadline, Bernard's ends; the review closes.
    ended = reviews.run_access_reviews(now=reviewed.review.deadline + timedelta(days=30, hours=1))
    assert ended["closed"] == 2
    bernard = Habilitation.objects.get(user=reviewed.bernard)
    assert bernard.revoked_at is not None
    assert bernard.revoke_reason == reviews.ENDED_REASON
    review = AccessReview.objects.get(pk=reviewed.review.pk)
    assert review.closed_at is not None
    assert review.completed_at is None
    assert item_of(review, reviewed.bernard).decision == Decision.ENDED
    assert Habilitation.objects.active().filter(user=reviewed.centre_user).exists()
    with pytest.raises(reviews.ReviewError, match="est close depuis le"):
        reviews.confirm_one(actor=reviewed.gestionnaire, review=review, item_pk=claire.pk)


def test_a_gestionnaire_suspended_by_the_review_may_still_confirm_it(reviewed):
    reviews.run_access_reviews(now=reviewed.foreign_review.deadline + timedelta(minutes=1))
    fanny = reviewed.foreign_gestionnaire
    assert not Habilitation.objects.active().filter(user=fanny).exists()

    assert reviews.confirm_all(actor=fanny, review=reviewed.foreign_review) == 1

    assert Habilitation.objects.active().filter(user=fanny).exists()
    assert OutboxEmail.objects.filter(
        recipient="fanny@autre.fr", template="habilitations/emails/access_resumed"
    ).exists()
    # Guy's company: he confirms everything, suspended accesses included.
    assert reviews.confirm_all(actor=reviewed.gestionnaire, review=reviewed.review) == 4
    assert not Habilitation.objects.suspended().filter(establishment__siren=reviewed.head.siren)
    assert AccessReview.objects.get(pk=reviewed.review.pk).completed_at is not None
