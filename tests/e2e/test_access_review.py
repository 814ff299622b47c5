"""The periodic access review in a real browser (issue #14 item 1): a review opens for a
gestionnaire with three people; they confirm two and remove one, then confirm the rest ("Je
confirme ces accès"); after the deadline — time moved by running the job with a later `now`,
not waited — the unconfirmed habilitation of another centre is suspended, and CERES refuses its
holder with the reason."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from portail.demarches.models import Demarche
from portail.habilitations import access_review as reviews
from portail.habilitations.models import AccessReview, AccessReviewItem, Habilitation
from tests.ceres.fixtures import ceres_fixture, ceres_server_fixture  # noqa: F401
from tests.e2e.test_habilitations import log_in
from tests.factories import PASSWORD
from tests.habilitations.factories import company, habilitate, person

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def two_centres(ceres):
    Demarche.objects.filter(code="ceres").update(requires_mfa=False, access_review_months=12)
    demarche = Demarche.objects.get(code="ceres")
    centre_role = demarche.roles.get(code="centre-agree")
    manager_role = demarche.roles.get(can_manage=True)
    (head,) = company(301, name="CFI ATLANTIQUE", sites=1)
    (other,) = company(302, name="AUTRE CENTRE", sites=1)
    guy = person("Guy", "Duponttest", head, email="guy@cfi.fr")
    habilitate(guy, manager_role, head)
    people = {}
    for first, last in (("Claire", "Centre"), ("Bernard", "Site"), ("Denise", "Départ")):
        people[first] = person(first, last, head, email=f"{first.lower()}@cfi.fr")
        habilitate(people[first], centre_role, head, granted_by=guy)
    fanny = person("Fanny", "Ailleurs", other, email="fanny@autre.fr")
    habilitate(fanny, manager_role, other)
    paul = person("Paul", "Oublié", other, email="paul@autre.fr")
    habilitate(paul, centre_role, other, granted_by=fanny)
    Habilitation.objects.update(granted_at=timezone.now() - timedelta(days=400))
    return guy, people, paul


def test_a_review_confirmed_removed_then_the_deadline_suspends_the_other_centre(
    browser_session, live_server, ceres, two_centres, axe_check
):
    guy, people, paul = two_centres
    now = timezone.now()
    assert reviews.run_access_reviews(now=now)["opened"] == 2

    session = browser_session("gestionnaire")
    page = log_in(session, guy.email)
    expect(page.get_by_role("heading", name="Mes démarches", level=1)).to_be_visible()
    page.get_by_role("link", name="Gérer les habilitations CERES").click()
    page.get_by_role("link", name=re.compile(r"^Revue des accès à faire avant le ")).click()
    expect(page.get_by_role("heading", name="Revue des accès CERES", level=1)).to_be_visible()
    for name in ("Guy Duponttest", "Claire Centre", "Bernard Site", "Denise Départ"):
        expect(page.get_by_role("cell", name=re.compile("^" + name))).to_be_visible()
    axe_check(page, "revue des accès")
    session.screenshot("review-1-open")

    page.get_by_role("button", name="Confirmer l’accès de Claire Centre (Centre agréé)").click()
    expect(page.get_by_text("L’accès est confirmé.")).to_be_visible()
    page.get_by_role("button", name="Confirmer l’accès de Bernard Site (Centre agréé)").click()
    expect(page.get_by_text("L’accès est confirmé.")).to_be_visible()
    page.get_by_role("button", name="Retirer l’accès de Denise Départ (Centre agréé)").click()
    expect(page.get_by_text("L’accès est retiré.")).to_be_visible()
    expect(page.get_by_text("1 accès restant à confirmer.")).to_be_visible()  # Guy's own
    page.get_by_role("button", name="Je confirme ces accès").click()
    expect(page.get_by_text("Les accès sont confirmés : la revue est terminée.")).to_be_visible()
    expect(
        page.get_by_text(re.compile(r"Revue des accès validée le .* par Guy Duponttest"))
    ).to_be_visible()
    session.screenshot("review-2-done")

    page.get_by_role("link", name="Retour à la gestion des habilitations").click()
    expect(
        page.get_by_text(
            re.compile(r"^Dernière revue des accès : le \d+ \S+ \d{4} par Guy Duponttest$")
        )
    ).to_be_visible()

    decisions = dict(
        AccessReviewItem.objects.filter(review__siren=guy.establishment.siren).values_list(
            "habilitation__user__first_name", "decision"
        )
    )
    assert decisions == {
        "Guy": "confirmed",
        "Claire": "confirmed",
        "Bernard": "confirmed",
        "Denise": "removed",
    }
    assert not Habilitation.objects.active().filter(user=people["Denise"]).exists()

    # The deadline passes (the job run as if it were the day after): the other centre's
    # unconfirmed accesses are suspended.
    other_review = AccessReview.objects.get(siren=paul.establishment.siren)
    done = reviews.run_access_reviews(now=other_review.deadline + timedelta(hours=1))
    assert done["lapsed"] == 1
    held = Habilitation.objects.get(user=paul)
    assert held.suspension_reason == Habilitation.Suspension.REVIEW_OVERDUE
    assert Habilitation.objects.active().filter(user=people["Claire"]).exists()

    holder = browser_session("paul")
    page = holder.open(ceres.url + "/")
    page.wait_for_url(re.compile(re.escape(live_server.url) + "/connexion/"))
    page.get_by_label("Adresse électronique").fill(paul.email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_text("Accès non confirmé lors de la revue des accès")).to_be_visible()
    assert page.url.startswith(ceres.url)
    expect(page.get_by_text("Vous êtes dans Ceres")).not_to_be_visible()
    holder.screenshot("review-3-ceres-refuses")
