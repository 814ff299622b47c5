"""The access review's pages: every role checked on the server (anonymous, a person without
rights, an agent, another company's gestionnaire, the gestionnaire), the answers, the
management page's lines."""

from datetime import timedelta
from urllib.parse import quote

import pytest
from django.urls import reverse

from portail.demarches.models import Demarche
from portail.habilitations import access_review as reviews
from portail.habilitations.models import AccessReview, AccessReviewItem, Habilitation
from tests.accounts.mfa_helpers import with_totp
from tests.backoffice.factories import AgentFactory
from tests.habilitations.factories import item_of

pytestmark = pytest.mark.django_db

Decision = AccessReviewItem.Decision


def urls(review, item):
    return {
        "page": ("get", reverse("habilitations:review", args=["ceres", review.pk])),
        "all": ("post", reverse("habilitations:review_confirm_all", args=["ceres", review.pk])),
        "one": (
            "post",
            reverse("habilitations:review_confirm_one", args=["ceres", review.pk, item.pk]),
        ),
        "remove": (
            "post",
            reverse("habilitations:review_remove_one", args=["ceres", review.pk, item.pk]),
        ),
    }


def as_role(client, reviewed, role):
    if role == "anonymous":
        return client
    user = {
        "nobody": lambda: reviewed.professional,
        "other_company": lambda: reviewed.foreign_gestionnaire,
        "agent": lambda: AgentFactory(is_national=True).user,
        "centre_user": lambda: reviewed.centre_user,
    }[role]()
    client.force_login(user)
    return client


@pytest.mark.parametrize("role", ["anonymous", "nobody", "centre_user", "other_company", "agent"])
@pytest.mark.parametrize("action", ["page", "all", "one", "remove"])
def test_only_the_companys_gestionnaires_reach_the_review(client, reviewed, role, action):
    item = item_of(reviewed.review, reviewed.centre_user)
    method, url = urls(reviewed.review, item)[action]
    response = getattr(as_role(client, reviewed, role), method)(url)
    if role == "anonymous":
        assert response.status_code == 302
        assert "/connexion/" in response["Location"]
    else:
        assert response.status_code == 404
    assert not reviewed.review.items.exclude(decision=Decision.PENDING).exists()
    assert AccessReview.objects.get(pk=reviewed.review.pk).completed_at is None


def test_the_gestionnaire_sees_every_person_and_confirms_removes_and_confirms_all(client, reviewed):
    client.force_login(reviewed.gestionnaire)
    review = reviewed.review
    page = client.get(reverse("habilitations:review", args=["ceres", review.pk]))
    assert page.status_code == 200
    text = page.content.decode()
    for name in ("Guy Duponttest", "Claire Centre", "Bernard Site"):
        assert name in text
    assert "Je confirme ces accès" in text
    assert "4 accès restants à confirmer" in text

    claire = item_of(review, reviewed.centre_user)
    bernard = item_of(review, reviewed.bernard)
    client.post(urls(review, claire)["one"][1])
    response = client.post(urls(review, bernard)["remove"][1], follow=True)
    assert "L’accès est retiré." in response.content.decode()
    response = client.post(urls(review, claire)["all"][1], follow=True)
    assert "Les accès sont confirmés : la revue est terminée." in response.content.decode()

    decisions = dict(
        AccessReviewItem.objects.filter(review=review).values_list(
            "habilitation__user__email", "decision"
        )
    )
    assert decisions["claire.centre@cfi.fr"] == Decision.CONFIRMED
    assert decisions["bernard@cfi.fr"] == Decision.REMOVED
    assert decisions["guy.duponttest@cfi.fr"] == Decision.CONFIRMED
    # Submitted twice: refused, explained, nothing changed.
    response = client.post(urls(review, claire)["all"][1], follow=True)
    assert "a déjà été validée le" in response.content.decode()

    manage = client.get(reverse("habilitations:manage", args=["ceres"])).content.decode()
    assert "Dernière revue des accès : le " in manage
    assert "par Guy Duponttest" in manage
    assert "Revue des accès à faire avant le" not in manage


def test_the_management_page_links_to_the_open_review(client, reviewed):
    client.force_login(reviewed.gestionnaire)
    manage = client.get(reverse("habilitations:manage", args=["ceres"])).content.decode()
    assert "Revue des accès à faire avant le" in manage
    assert reverse("habilitations:review", args=["ceres", reviewed.review.pk]) in manage
    assert "Aucune revue des accès n’a encore été validée." in manage


def test_after_the_deadline_the_page_explains_and_the_management_page_confirms(client, reviewed):
    guy_manager = item_of(reviewed.review, reviewed.gestionnaire, reviewed.manager_role)
    reviews.confirm_one(actor=reviewed.gestionnaire, review=reviewed.review, item_pk=guy_manager.pk)
    reviews.run_access_reviews(now=reviewed.review.deadline + timedelta(minutes=1))
    client.force_login(reviewed.gestionnaire)

    page = client.get(reverse("habilitations:review", args=["ceres", reviewed.review.pk]))
    text = page.content.decode()
    assert "Le délai de cette revue est dépassé depuis le" in text
    assert "Vous pouvez encore les confirmer jusqu’au" in text

    manage = client.get(reverse("habilitations:manage", args=["ceres"])).content.decode()
    assert "Accès suspendus faute de confirmation" in manage
    assert "Bernard Site" in manage
    bernard = item_of(reviewed.review, reviewed.bernard)
    response = client.post(
        urls(reviewed.review, bernard)["one"][1], {"next": "manage"}, follow=False
    )
    assert response["Location"] == reverse("habilitations:manage", args=["ceres"])
    assert Habilitation.objects.active().filter(user=reviewed.bernard).exists()


def test_a_closed_review_is_explained_and_takes_no_answer(client, reviewed):
    reviews.run_access_reviews(now=reviewed.review.deadline + timedelta(minutes=1))
    # Guy's managing role was suspended too: he may still open the review.
    reviews.confirm_one(
        actor=reviewed.gestionnaire,
        review=reviewed.review,
        item_pk=item_of(reviewed.review, reviewed.gestionnaire, reviewed.manager_role).pk,
    )
    reviews.run_access_reviews(now=reviewed.review.deadline + timedelta(days=31))
    client.force_login(reviewed.gestionnaire)
    text = client.get(
        reverse("habilitations:review", args=["ceres", reviewed.review.pk])
    ).content.decode()
    assert "Revue close" in text
    assert "Je confirme ces accès" not in text
    claire = item_of(reviewed.review, reviewed.centre_user)
    response = client.post(urls(reviewed.review, claire)["one"][1], follow=True)
    assert "est close depuis le" in response.content.decode()


def test_removing_asks_a_fresh_second_factor_then_comes_back_to_the_review(client, reviewed):
    Demarche.objects.filter(pk=reviewed.demarche.pk).update(requires_mfa=True)
    with_totp(reviewed.gestionnaire)
    client.force_login(reviewed.gestionnaire)
    claire = item_of(reviewed.review, reviewed.centre_user)

    response = client.post(urls(reviewed.review, claire)["remove"][1])

    page = reverse("habilitations:review", args=["ceres", reviewed.review.pk])
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:step_up") + "?next=" + quote(page, safe="")
    assert Habilitation.objects.active().filter(user=reviewed.centre_user).exists()
