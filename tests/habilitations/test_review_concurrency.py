"""Races of the access review on PostgreSQL, each thread on its own connection: two
gestionnaires sending "Je confirme ces accès" at the same instant, a confirmation against a
removal of the same line, the job run twice at once."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from portail.audit.models import AuditEvent
from portail.habilitations import access_review as reviews
from portail.habilitations.models import AccessReview, AccessReviewItem, Habilitation
from tests.habilitations.factories import backdate, build_world, habilitate, item_of, person

pytestmark = [
    pytest.mark.postgres_only(
        reason="needs PostgreSQL (row locks): run with DATABASE_URL=postgres://…"
    ),
    pytest.mark.django_db(transaction=True),
]

ROUNDS = 4


def together(*actions):
    """Run the actions at the same instant, each in its thread; what each returned or raised."""
    barrier = threading.Barrier(len(actions))
    results: list = [None] * len(actions)

    def run(i, action):
        try:
            barrier.wait(timeout=10)
            results[i] = action()
        except Exception as error:
            results[i] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def company_in_review():
    world = build_world()
    world.demarche.access_review_months = 12
    world.demarche.save(update_fields=["access_review_months"])
    second = person("Sophie", "Seconde", world.head, email="sophie@cfi.fr")
    habilitate(second, world.manager_role, world.head)
    backdate()
    reviews.run_access_reviews()
    return world, second, AccessReview.objects.get(siren=world.head.siren)


def test_two_gestionnaires_confirming_all_at_the_same_instant_complete_it_once():
    world, second, review = company_in_review()
    for _ in range(ROUNDS):
        lines = review.items.count()
        results = together(
            lambda review=review: reviews.confirm_all(actor=world.gestionnaire, review=review),
            lambda review=review: reviews.confirm_all(actor=second, review=review),
        )
        outcomes = sorted(type(r).__name__ for r in results)
        assert outcomes == ["ReviewError", "int"], results
        assert [r for r in results if isinstance(r, int)] == [lines]
        events = AuditEvent.objects.filter(target_id=str(review.pk))
        assert events.filter(action="access_review.completed").count() == 1
        assert events.filter(action="access_review.confirmed_all").count() == 1
        # The next round: a new review of the same company.
        AccessReview.objects.filter(pk=review.pk).update(closed_at=timezone.now())
        review = AccessReview.objects.create(
            demarche=world.demarche,
            siren=world.head.siren,
            establishment=world.head,
            deadline=timezone.now() + timedelta(days=30),
        )
        AccessReviewItem.objects.bulk_create(
            AccessReviewItem(review=review, habilitation=h)
            for h in Habilitation.objects.active().filter(establishment__siren=world.head.siren)
        )


def test_confirming_and_removing_the_same_line_at_once_decides_it_once():
    world, second, review = company_in_review()
    claire = item_of(review, world.centre_user)
    results = together(
        lambda: reviews.confirm_one(actor=world.gestionnaire, review=review, item_pk=claire.pk),
        lambda: reviews.remove_one(actor=second, review=review, item_pk=claire.pk),
    )
    assert sorted(type(r).__name__ for r in results) == ["AccessReviewItem", "ReviewError"]
    claire.refresh_from_db()
    revoked = Habilitation.objects.get(pk=claire.habilitation_id).revoked_at is not None
    assert revoked == (claire.decision == AccessReviewItem.Decision.REMOVED)


def test_the_job_run_twice_at_once_opens_one_review_per_company():
    world = build_world()
    world.demarche.access_review_months = 12
    world.demarche.save(update_fields=["access_review_months"])
    backdate()
    results = together(reviews.run_access_reviews, reviews.run_access_reviews)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sum(r["opened"] for r in results) == 2
    assert AccessReview.objects.count() == 2
    assert AuditEvent.objects.filter(action="access_review.opened").count() == 2
