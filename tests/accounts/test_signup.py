"""Sign-up "Créer votre compte": tabs, establishment from the registry, bad input, no enumeration."""

import base64
import json
import re
import time

import pytest
from django.test import Client

from portail.accounts import altcha
from portail.accounts.models import AccountToken, User
from portail.audit.models import AuditEvent
from portail.companies.models import Establishment
from portail.notifications.models import OutboxEmail
from tests.accounts.helpers import PASSWORD, registry_establishment, signup_data
from tests.factories import UserFactory, make_siren, make_siret

pytestmark = pytest.mark.django_db


def html_of(response) -> str:
    return response.content.decode().replace("&#x27;", "'").replace("&quot;", '"')


def test_signup_page_has_the_manual_sections(client):
    raw = html_of(client.get("/inscription/"))
    html = " ".join(re.sub(r"<[^>]+>", " ", raw).split())
    for words in [
        "Créer votre compte",
        "Particulier",
        "Professionnel",
        "Partenaire",
        "Votre établissement",
        "SIRET *",
        "Raison sociale",
        "Adresse",
        "Commune",
        "Vos informations de connexion",
        "Email *",
        "Mot de passe *",
        "Confirmez votre mot de passe *",
        "Vos coordonnées",
        "Civilité *",
        "Madame",
        "Monsieur",
        "Nom *",
        "Prénom *",
        "Téléphone *",
        "Confirmez que vous n'êtes pas une machine",
        "Retour",
        "Créer mon compte",
    ]:
        assert words in html, words
    # PROFESSIONNEL is the tab selected by default.
    assert 'href="/inscription/?type=professionnel" aria-current="page"' in raw
    assert "<altcha-widget" in raw
    assert 'data-siret-lookup-url="/entreprises/siret/{siret}/"' in raw


def test_particulier_tab_has_no_establishment_block(client):
    html = html_of(client.get("/inscription/?type=particulier"))
    assert 'href="/inscription/?type=particulier" aria-current="page"' in html
    assert "Votre établissement" not in html
    assert "SIRET" not in html


def test_professional_signup_creates_an_unverified_account_and_mails_the_link(client):
    siret = registry_establishment("CFI ATLANTIQUE")
    data = signup_data(
        client,
        siret=siret[:3] + " " + siret[3:],
        company_name="CFI Atlantique (Nantes)",
        address="12 rue des Écoles",
        commune="44000 NANTES",
    )
    response = client.post("/inscription/", data)
    assert response.status_code == 302
    assert response["Location"] == "/inscription/envoyee/"
    page = html_of(client.get(response["Location"]))
    assert "Un message d'activation de compte vous a été envoyé" in page
    assert "nouvelle.personne@exemple.fr" in page

    user = User.objects.get(email="nouvelle.personne@exemple.fr")
    assert user.email_verified_at is None
    assert user.account_type == "professionnel"
    assert user.phone == "+33612345678"
    assert user.civilite == "MME"
    assert user.declared_siret == siret
    assert user.declared_siren == siret[:9]
    assert user.declared_company_name == "CFI Atlantique (Nantes)"  # as the person adjusted it
    assert user.establishment.siret == siret
    assert user.establishment.name == "CFI ATLANTIQUE"
    assert user.establishment.verified
    assert user.establishment_verified
    assert user.check_password(PASSWORD)
    assert user.password.startswith("argon2$argon2id$")

    email = OutboxEmail.objects.get(recipient=user.email)
    assert "Activez votre compte" in email.subject
    token = AccountToken.objects.get(user=user, purpose="activation")
    assert token.token_hash not in email.body_text  # only the hash is stored
    assert "/activation/" in email.body_text
    assert AuditEvent.objects.filter(action="account.signup", target_id=str(user.pk)).exists()


def test_particulier_signup_needs_no_siret(client):
    response = client.post(
        "/inscription/", signup_data(client, account_type="particulier", siret="")
    )
    assert response.status_code == 302
    user = User.objects.get(email="nouvelle.personne@exemple.fr")
    assert user.account_type == "particulier"
    assert user.establishment is None
    assert user.declared_siret == ""


def test_partenaire_signup_needs_a_siret(client):
    response = client.post("/inscription/", signup_data(client, account_type="partenaire"))
    assert response.status_code == 200
    assert "Saisissez le SIRET de votre établissement." in html_of(response)
    assert not User.objects.exists()


def test_without_javascript_the_siret_is_looked_up_and_the_form_comes_back_prefilled(client):
    siret = registry_establishment("FORMATIONS DU PORT")
    response = client.post(
        "/inscription/", {**signup_data(client, siret=siret), "action": "lookup"}
    )
    html = html_of(response)
    assert response.status_code == 200
    assert 'value="FORMATIONS DU PORT"' in html
    assert 'value="12 rue des Écoles"' in html
    assert 'value="44000 NANTES"' in html
    assert 'value="Durand"' in html  # the rest is kept
    assert not User.objects.exists()
    # Fields not filled yet get no error from a lookup.
    partial = client.post(
        "/inscription/", {"account_type": "professionnel", "siret": siret, "action": "lookup"}
    )
    assert 'value="FORMATIONS DU PORT"' in html_of(partial)
    assert "Saisissez votre adresse électronique." not in html_of(partial)
    assert 'aria-invalid="true"' not in html_of(partial)


def test_submit_with_empty_establishment_fields_comes_back_prefilled_for_confirmation(client):
    siret = registry_establishment("FORMATIONS DU PORT")
    response = client.post("/inscription/", signup_data(client, siret=siret))
    html = html_of(response)
    assert response.status_code == 200
    assert "vérifiez sa raison sociale" in html
    assert 'value="FORMATIONS DU PORT"' in html
    assert not User.objects.exists()
    # Confirmed as shown: the account is created.
    confirmed = signup_data(
        client,
        siret=siret,
        company_name="FORMATIONS DU PORT",
        address="12 rue des Écoles",
        commune="44000 NANTES",
    )
    assert client.post("/inscription/", confirmed).status_code == 302


@pytest.mark.parametrize(
    ("siret", "message"),
    [
        ("1234", "Le numéro SIRET doit comporter 14 chiffres."),
        ("12345678901234", "Ce numéro SIRET n'est pas valide."),
    ],
)
def test_invalid_siret_is_refused_on_the_field(client, siret, message):
    response = client.post("/inscription/", signup_data(client, siret=siret))
    html = html_of(response)
    assert message in html
    assert 'value="nouvelle.personne@exemple.fr"' in html
    assert PASSWORD not in html  # passwords are never sent back
    assert not User.objects.exists()


def test_siret_unknown_to_the_registry(client):
    siret = make_siret(make_siren(4242), 1)
    response = client.post("/inscription/", signup_data(client, siret=siret, company_name="X"))
    assert "Ce SIRET est inconnu du répertoire des entreprises." in html_of(response)
    assert not User.objects.exists()


def test_closed_establishment_is_refused_with_an_explanation(client):
    siret = registry_establishment("ANCIEN CENTRE", active=False)
    response = client.post("/inscription/", signup_data(client, siret=siret, company_name="X"))
    assert "Cet établissement est fermé selon le répertoire des entreprises" in html_of(response)
    assert not User.objects.exists()


def test_registry_unreachable_lets_the_person_type_the_establishment(client, settings):
    settings.COMPANIES_REGISTRY = "recherche_entreprises"
    settings.COMPANIES_RECHERCHE_ENTREPRISES_URL = "http://127.0.0.1:9"  # nothing listens
    settings.COMPANIES_REGISTRY_TIMEOUT = 1
    siret = make_siret(make_siren(4343), 1)
    first = client.post("/inscription/", signup_data(client, siret=siret))
    html = html_of(first)
    assert "Le répertoire des entreprises ne répond pas" in html
    assert "Saisissez la raison sociale de votre établissement." in html
    assert not User.objects.exists()
    typed = signup_data(
        client, siret=siret, company_name="Centre Tapé", address="1 rue A", commune="Nantes"
    )
    assert client.post("/inscription/", typed).status_code == 302
    user = User.objects.get()
    assert not user.establishment_verified
    assert user.establishment.verified is False
    assert user.establishment.source == Establishment.Source.DECLARED
    assert user.establishment.name == "Centre Tapé"


@pytest.mark.parametrize(
    ("overrides", "field_message"),
    [
        (
            {"password2": "Une autre phrase de passe"},
            "Les deux mots de passe ne sont pas identiques.",
        ),
        ({"password1": "court", "password2": "court"}, "Ce mot de passe est trop court."),
        (
            {"password1": "123456789abc", "password2": "123456789abc"},
            "Ce mot de passe est trop courant.",
        ),
        ({"password1": "x" * 129, "password2": "x" * 129}, "128 caractères au maximum"),
        ({"password1": "nouvelle.personne", "password2": "nouvelle.personne"}, "trop semblable"),
        ({"civilite": ""}, "Indiquez votre civilité."),
        ({"phone": "12"}, "Saisissez un numéro de téléphone valide"),
        ({"last_name": ""}, "Saisissez votre nom."),
        ({"email": "pas-une-adresse"}, "Saisissez une adresse électronique valide"),
        ({"altcha": ""}, "Confirmez que vous n'êtes pas un robot"),
        ({"altcha": "Zm9yZ2Vk"}, "La vérification anti-robot a échoué"),
    ],
)
def test_bad_input_is_refused_in_french_and_the_form_kept_filled(client, overrides, field_message):
    data = signup_data(client, account_type="particulier", siret="", **overrides)
    response = client.post("/inscription/", data)
    html = html_of(response)
    assert response.status_code == 200
    assert field_message in html
    assert 'value="Alice"' in html
    assert PASSWORD not in html
    assert not User.objects.exists()
    assert not OutboxEmail.objects.exists()


def test_a_forged_altcha_solution_is_refused(client):
    challenge = client.get("/inscription/anti-robot/").json()
    challenge["parameters"]["keyPrefix"] = "00"  # easier puzzle, signature no longer matches
    payload = altcha.solve(challenge)
    decoded = json.loads(base64.b64decode(payload))
    assert decoded["challenge"]["parameters"]["keyPrefix"] == "00"
    response = client.post(
        "/inscription/", signup_data(client, account_type="particulier", altcha=payload)
    )
    assert "La vérification anti-robot a échoué" in html_of(response)
    assert not User.objects.exists()


def test_a_solved_challenge_cannot_be_replayed(client):
    data = signup_data(client, account_type="particulier")
    assert client.post("/inscription/", data).status_code == 302
    again = client.post("/inscription/", {**data, "email": "autre@exemple.fr"})
    assert "Cette vérification anti-robot a déjà servi" in html_of(again)
    assert not User.objects.filter(email="autre@exemple.fr").exists()


def test_a_sign_up_while_the_cache_is_down_is_refused_in_french_and_kept(client, settings):
    data = signup_data(client, account_type="particulier")  # the challenge needs no cache
    settings.CACHES = {  # a Redis where nothing listens: its solution cannot be spent
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        }
    }
    settings.RATELIMIT_REDIS_URL = "redis://127.0.0.1:1/0"

    response = client.post("/inscription/", data)

    assert response.status_code == 503
    html = html_of(response)
    assert "Le service est momentanément indisponible" in html
    assert f'value="{data["email"]}"' in html  # nothing typed is lost
    assert data["altcha"] in html  # nor the solved check
    assert not User.objects.exists()


def test_existing_email_gets_the_same_page_and_the_owner_an_email(client):
    owner = UserFactory(email="deja@exemple.fr")
    response = client.post(
        "/inscription/",
        signup_data(client, account_type="particulier", email="DEJA@exemple.fr"),
    )
    assert response.status_code == 302
    assert response["Location"] == "/inscription/envoyee/"
    assert User.objects.filter(email__iexact="deja@exemple.fr").count() == 1
    owner.refresh_from_db()
    assert owner.first_name != "Alice"  # nothing of the attempt applied
    email = OutboxEmail.objects.get(recipient="deja@exemple.fr")
    assert "Tentative de création de compte" in email.subject
    assert not AccountToken.objects.filter(user=owner).exists()


def test_existing_unactivated_email_gets_a_new_activation_link(client):
    owner = UserFactory(email="pasactive@exemple.fr", unverified=True)
    client.post(
        "/inscription/",
        signup_data(client, account_type="particulier", email="pasactive@exemple.fr"),
    )
    email = OutboxEmail.objects.get(recipient="pasactive@exemple.fr")
    assert "Activez votre compte" in email.subject
    assert AccountToken.objects.filter(user=owner, purpose="activation").count() == 1


def test_altcha_challenge_endpoint_is_cheap_in_tests_and_not_cached(client, settings):
    response = client.get("/inscription/anti-robot/")
    assert response.status_code == 200
    assert "no-cache" in response["Cache-Control"] or "no-store" in response["Cache-Control"]
    body = response.json()
    assert body["parameters"]["algorithm"] == "SHA-256"
    assert body["signature"]
    assert settings.ALTCHA_MAX_NUMBER == 2000


def test_sign_ups_are_rate_limited_per_ip(limits_store, client):
    for n in range(20):
        data = signup_data(client, account_type="particulier", email=f"p{n}@exemple.fr")
        assert client.post("/inscription/", data).status_code == 302
    blocked = client.post(
        "/inscription/", signup_data(client, account_type="particulier", email="p99@exemple.fr")
    )
    assert blocked.status_code == 429
    assert "Trop de tentatives" in html_of(blocked)
    assert not User.objects.filter(email="p99@exemple.fr").exists()


def test_signup_post_needs_the_csrf_token():
    strict = Client(enforce_csrf_checks=True)
    response = strict.post("/inscription/", signup_data(strict, account_type="particulier"))
    assert response.status_code == 403
    assert not User.objects.exists()


def test_a_forged_account_type_falls_back_to_professionnel(client):
    response = client.post(
        "/inscription/", signup_data(client, account_type="administrateur", siret="")
    )
    assert "Saisissez le SIRET de votre établissement." in html_of(response)
    assert not User.objects.exists()


# --- a solved anti-robot check survives the form shown again (#17 item 11) ----------------------

KEPT = "Vérification faite : vous n'avez pas à la refaire."
RETYPE = "Saisissez de nouveau votre mot de passe et sa confirmation"


def kept_solution(html: str) -> str:
    found = re.search(r'<input type="hidden" name="altcha" value="([^"]+)">', html)
    return found.group(1) if found else ""


def test_a_solved_check_is_kept_when_the_form_comes_back_with_errors(client):
    data = signup_data(client, account_type="particulier", password2="Une autre phrase de passe")
    response = client.post("/inscription/", data)
    html = html_of(response)
    assert response.status_code == 200
    assert "Les deux mots de passe ne sont pas identiques." in html
    assert kept_solution(html) == data["altcha"]
    assert KEPT in html
    assert RETYPE in html  # the page says what to type again
    assert PASSWORD not in html
    assert "<altcha-widget" not in html  # nothing to redo
    # The form as the browser sends it again: the same solution, the passwords typed again.
    again = {**data, "password2": PASSWORD, "altcha": kept_solution(html)}
    assert client.post("/inscription/", again).status_code == 302
    assert User.objects.filter(email="nouvelle.personne@exemple.fr").exists()


def test_a_sign_up_refused_by_the_flow_gives_the_solution_back_until_one_succeeds(client):
    unknown = make_siret(make_siren(4343), 1)
    data = signup_data(client, siret=unknown)
    refused = client.post("/inscription/", data)
    html = html_of(refused)
    assert "Ce SIRET est inconnu du répertoire des entreprises." in html
    assert kept_solution(html) == data["altcha"]
    assert RETYPE in html

    # A known SIRET with the establishment's fields empty: shown again, prefilled, to confirm.
    corrected = {**data, "siret": registry_establishment(), "altcha": kept_solution(html)}
    html = html_of(client.post("/inscription/", corrected))
    assert 'value="CFI ATLANTIQUE"' in html
    assert kept_solution(html) == data["altcha"]
    confirmed = {
        **corrected,
        "company_name": "CFI ATLANTIQUE",
        "address": "12 rue des Écoles",
        "commune": "44000 NANTES",
        "altcha": kept_solution(html),
    }
    assert client.post("/inscription/", confirmed).status_code == 302

    # Spent by the sign-up that succeeded: a replay is refused, and not kept.
    replay = client.post("/inscription/", {**confirmed, "email": "autre@exemple.fr"})
    html = html_of(replay)
    assert "Cette vérification anti-robot a déjà servi" in html
    assert kept_solution(html) == ""
    assert "<altcha-widget" in html
    assert not User.objects.filter(email="autre@exemple.fr").exists()


def test_a_spent_solution_is_not_kept_even_with_other_errors(client):
    data = signup_data(client, account_type="particulier")
    assert client.post("/inscription/", data).status_code == 302
    html = html_of(
        client.post("/inscription/", {**data, "email": "autre@exemple.fr", "phone": "1"})
    )
    assert kept_solution(html) == ""
    assert KEPT not in html


@pytest.mark.parametrize("payload", ["Zm9yZ2Vk", ""])
def test_a_forged_or_missing_solution_is_never_kept(client, payload):
    data = signup_data(client, account_type="particulier", phone="1", altcha=payload)
    html = html_of(client.post("/inscription/", data))
    assert kept_solution(html) == ""
    assert "<altcha-widget" in html


def test_a_kept_solution_expires_with_its_challenge(client, monkeypatch):
    data = signup_data(client, account_type="particulier", phone="1")
    first = html_of(client.post("/inscription/", data))
    assert kept_solution(first) == data["altcha"]
    later = time.time() + 21 * 60  # the challenge lives 20 minutes
    monkeypatch.setattr(time, "time", lambda: later)
    expired = html_of(client.post("/inscription/", {**data, "phone": "06 12 34 56 78"}))
    assert "La vérification anti-robot a expiré" in expired
    assert kept_solution(expired) == ""
    assert not User.objects.exists()


def test_a_rate_limited_sign_up_gives_its_solution_back(client):
    for n in range(20):
        ok = signup_data(client, account_type="particulier", email=f"q{n}@exemple.fr")
        assert client.post("/inscription/", ok).status_code == 302
    data = signup_data(client, account_type="particulier", email="limite@exemple.fr")
    limited = client.post("/inscription/", data)
    assert limited.status_code == 429
    assert kept_solution(html_of(limited)) == data["altcha"]
    assert altcha.verify(data["altcha"], spend=False).ok
