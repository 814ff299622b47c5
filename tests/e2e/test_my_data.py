""" "Mes données" and the reactivation page in a real browser: reached from "Mon compte", axe
checks at 1280 and 390 px, both downloads saved by Chromium and read back."""

import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from portail.accounts import dormancy
from portail.accounts.models import User
from portail.notifications.models import OutboxEmail
from tests.factories import PASSWORD, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def log_in(person, email: str):
    page = person.open("/connexion/?next=/mon-compte/")
    page.get_by_label("Adresse électronique").fill(email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("heading", name="Mon compte")).to_be_visible()
    return page


def test_mes_donnees_downloads_json_and_a_readable_page(browser_session, axe_check, live_server):
    UserFactory(email="donnees@exemple.fr", first_name="Dora", last_name="Données")
    person = browser_session("donnees")
    page = log_in(person, "donnees@exemple.fr")
    page.get_by_role("link", name="Mes données").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mes données")
    axe_check(page, "mes données (1280)")
    person.screenshot("accounts-my-data-1280")

    with page.expect_download() as json_download:
        page.get_by_role("button", name="Télécharger mes données (JSON)").click()
    assert re.fullmatch(
        r"mes-donnees-\d{4}-\d{2}-\d{2}\.json", json_download.value.suggested_filename
    )
    data = json.loads(Path(json_download.value.path()).read_text(encoding="utf-8"))
    assert data["compte"]["adresse_electronique"] == "donnees@exemple.fr"
    assert any(line["code"] == "account.login" for line in data["journal"])

    with page.expect_download() as html_download:
        page.get_by_role("button", name=re.compile("page lisible")).click()
    html = Path(html_download.value.path()).read_text(encoding="utf-8")
    assert "<h1>Mes données</h1>" in html
    assert "Dora" in html

    page.set_viewport_size({"width": 390, "height": 844})
    axe_check(page, "mes données (390)")
    person.screenshot("accounts-my-data-390")
    assert person.console_errors == []


def test_the_reactivation_page(browser_session, axe_check, live_server):
    user = UserFactory(email="endormie@exemple.fr")
    User.objects.filter(pk=user.pk).update(
        last_login=timezone.now() - timedelta(days=400),
        date_joined=timezone.now() - timedelta(days=500),
        dormancy_warned_at=timezone.now() - timedelta(days=31),
    )
    dormancy.deactivate_dormant_accounts()
    body = OutboxEmail.objects.get(recipient=user.email, subject__contains="désactivé").body_text
    link = re.search(r"http://\S+(/reactivation/\S+/)", body).group(1)

    person = browser_session("reactivation")
    page = person.open(link)
    expect(page.get_by_role("heading", level=1)).to_have_text("Réactiver mon compte")
    axe_check(page, "réactiver mon compte")
    page.get_by_role("button", name="Réactiver mon compte").click()
    expect(page.get_by_text("Votre compte est réactivé.")).to_be_visible()
    page.get_by_label("Adresse électronique").fill(user.email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("heading", name="Mes démarches")).to_be_visible()
    assert person.console_errors == []
