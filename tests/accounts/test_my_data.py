""" "Mes données" (#14 item 4): the page and its two downloads (JSON, readable HTML), per role;
what the export holds of the account — and nothing of anyone else; links masked; no secret; the
rate limit; the second factor checked again first."""

import json

import pytest
from django.test import Client
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from portail.accounts import flows
from portail.accounts.limits import DATA_EXPORT_PER_ACCOUNT
from portail.accounts.models import AccountToken, User
from portail.accounts.my_data import export_of
from portail.audit.models import AuditEvent
from portail.habilitations.flows import accept_invitation, invite, revoke
from portail.habilitations.models import AccessRequest, Habilitation
from portail.notifications.models import OutboxEmail
from tests.factories import PASSWORD, EstablishmentFactory, UserFactory
from tests.habilitations.factories import ceres, habilitate

pytestmark = pytest.mark.django_db

PAGE = "/mon-compte/mes-donnees/"
ANNE_IP, BRUNO_IP = "203.0.113.41", "198.51.100.77"


def browser(ip: str) -> Client:
    return Client(
        REMOTE_ADDR=ip,
        HTTP_USER_AGENT="Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0",
    )


def log_in(client: Client, email: str) -> None:
    response = client.post("/", {"email": email, "password": PASSWORD})
    assert response.status_code == 302, response.content[:400]


def download(client: Client, fmt: str):
    return client.post(PAGE, {"format": fmt})


@pytest.fixture
def two_people():
    """Anne, invited by Bruno (gestionnaire of her company for CERES), whose habilitation he then
    ended; both signed in, each from their own address; Anne asked a password reset link."""
    demarche, centre_role, manager = ceres()
    establishment = EstablishmentFactory(name="CFI ATLANTIQUE")
    anne = UserFactory(
        email="anne.martin@cfi.fr", first_name="Anne", last_name="Martin", phone="+33611111111"
    )
    bruno = UserFactory(
        email="bruno.gestion@cfi.fr", first_name="Bruno", last_name="Gestion", phone="+33699999999"
    )
    habilitate(bruno, manager, establishment)
    sent = invite(
        actor=bruno,
        demarche=demarche,
        role=centre_role,
        establishment=establishment,
        email=anne.email,
    )
    habilitation = accept_invitation(user=anne, token=sent.token)
    revoke(actor=bruno, habilitation=habilitation, reason="Départ de l’équipe")
    # Bruno's own life on the portal: an invitation to someone else, an access request to him.
    invite(
        actor=bruno,
        demarche=demarche,
        role=centre_role,
        establishment=establishment,
        email="claire.tiers@autre.fr",
    )
    AccessRequest.objects.create(
        requester=bruno,
        demarche=demarche,
        establishment=EstablishmentFactory(),
        role=centre_role,
        message="Demande de Bruno",
        expires_at=timezone.now() + timezone.timedelta(days=3),
    )
    AccessRequest.objects.create(
        requester=anne,
        demarche=demarche,
        establishment=establishment,
        role=centre_role,
        message="Je reviens dans l’équipe",
        expires_at=timezone.now() + timezone.timedelta(days=3),
    )
    flows.request_password_reset(anne.email)
    flows.request_password_reset(bruno.email)
    anne_browser, bruno_browser = browser(ANNE_IP), browser(BRUNO_IP)
    log_in(anne_browser, anne.email)
    log_in(bruno_browser, bruno.email)
    return anne, bruno, anne_browser, bruno_browser


def test_anonymous_visitors_are_sent_to_the_login(client):
    for response in (client.get(PAGE), client.post(PAGE, {"format": "json"})):
        assert response.status_code == 302
        assert response["Location"].startswith("/connexion/")


def test_the_page_is_in_mon_compte_and_offers_two_downloads(two_people):
    _, _, anne_browser, _ = two_people
    assert "Mes données" in anne_browser.get("/mon-compte/").content.decode()
    html = anne_browser.get(PAGE).content.decode()
    assert "Télécharger mes données (JSON)" in html
    assert "Télécharger une page lisible et imprimable (HTML)" in html
    assert "le journal des actions est conservé 5 ans" in html


def test_the_json_holds_what_the_account_holds(two_people):
    anne, _, anne_browser, _ = two_people
    response = download(anne_browser, "json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"].startswith('attachment; filename="mes-donnees-')
    data = json.loads(response.content)

    account = data["compte"]
    assert account["adresse_electronique"] == "anne.martin@cfi.fr"
    assert (account["prenom"], account["nom"], account["telephone"]) == (
        "Anne",
        "Martin",
        "+33611111111",
    )
    assert account["identifiant"] == str(anne.public_id)
    assert account["mot_de_passe"].startswith("configuré")

    (habilitation,) = data["habilitations"]
    assert habilitation["etablissement"].startswith("CFI ATLANTIQUE")
    assert habilitation["revoquee_le"]
    assert not habilitation["en_cours"]
    assert habilitation["motif_de_revocation"] == "Départ de l’équipe"
    history = [(line["code"], line["par"]) for line in habilitation["historique"]]
    assert ("habilitation.granted", "vous") in history
    assert ("habilitation.revoked", "une autre personne") in history

    (received,) = data["invitations_recues"]
    assert received["etat"] == "acceptée"
    assert received["adresse_invitee"] == anne.email
    assert data["invitations_envoyees"] == []
    (request,) = data["demandes_d_acces"]
    assert request["message"] == "Je reviens dans l’équipe"
    assert len(data["sessions"]) == 1
    assert data["sessions"][0]["adresse_ip_masquee"] == ("203.0.113.xxx")
    assert len(data["navigateurs_connus"]) == 1

    codes = [line["code"] for line in data["journal"]]
    assert {"account.login", "invitation.accepted", "account.password_reset_requested"} <= set(
        codes
    )
    (login,) = [line for line in data["journal"] if line["code"] == "account.login"]
    assert login["adresse_ip"] == ANNE_IP
    assert login["par"] == "vous"

    subjects = [email["objet"] for email in data["courriels"]]
    assert any("Réinitialisation de votre mot de passe" in s for s in subjects)
    assert any("invit" in s.lower() for s in subjects)
    assert all(email["destinataire"] == anne.email for email in data["courriels"])
    assert AuditEvent.objects.filter(
        action="account.data_exported", actor=anne, data={"format": "json"}
    ).exists()


def test_nothing_of_anyone_else_is_in_either_export(two_people):
    _anne, bruno, anne_browser, _ = two_people
    bruno_habilitation = Habilitation.objects.get(user=bruno)
    for fmt in ("json", "html"):
        response = download(anne_browser, fmt)
        assert response.status_code == 200
        text = response.content.decode()
        if fmt == "json":
            text = json.dumps(json.loads(text), ensure_ascii=False)
        assert "anne.martin@cfi.fr" in text
        for theirs in (
            bruno.email,
            "Bruno",
            "Gestion",
            bruno.phone,
            str(bruno.public_id),
            BRUNO_IP,
            "claire.tiers@autre.fr",
            "Demande de Bruno",
            bruno_habilitation.role.label + " — " + bruno.email,
        ):
            assert theirs not in text, (fmt, theirs)
        # Who invited her and who ended her habilitation: "une autre personne", unnamed.
        assert "[autre personne]" in text or "une autre personne" in text


def test_no_secret_and_no_usable_link_is_in_the_export(two_people):
    anne, _, anne_browser, _ = two_people
    text = download(anne_browser, "json").content.decode()
    anne.refresh_from_db()
    assert anne.password not in text
    assert "argon2" not in text
    for token_hash in AccountToken.objects.filter(user=anne).values_list("token_hash", flat=True):
        assert token_hash not in text
    reset = OutboxEmail.objects.get(recipient=anne.email, subject__contains="Réinitialisation")
    link = next(word for word in reset.body_text.split() if "/mot-de-passe-oublie/" in word)
    assert link not in text
    assert "[lien masqué]" in text


def test_the_readable_page_is_a_printable_html_download(two_people):
    _, _, anne_browser, _ = two_people
    response = download(anne_browser, "html")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert response["Content-Disposition"].endswith('.html"')
    html = response.content.decode()
    for heading in (
        "Mon compte",
        "Mes habilitations",
        "Invitations reçues",
        "Journal",
        "Courriels reçus",
        "Sessions et navigateurs",
    ):
        assert f"<h2>{heading}</h2>" in html
    assert "CFI ATLANTIQUE" in html


def test_each_person_downloads_their_own(two_people):
    anne, bruno, _, bruno_browser = two_people
    data = json.loads(download(bruno_browser, "json").content)
    assert data["compte"]["adresse_electronique"] == bruno.email
    text = json.dumps(data, ensure_ascii=False)
    assert anne.email not in text
    assert "Martin" not in text
    (sent_to_anne, sent_to_claire) = sorted(
        data["invitations_envoyees"], key=lambda i: i["adresse_invitee"]
    )
    assert sent_to_claire["adresse_invitee"] == "c•••@autre.fr"
    assert sent_to_anne["adresse_invitee"] == "a•••@cfi.fr"


def test_an_unknown_format_is_refused_with_a_french_message(two_people):
    _, _, anne_browser, _ = two_people
    response = anne_browser.post(PAGE, {"format": "xml"})
    assert response.status_code == 400
    assert "Choisissez l’un des deux formats proposés." in response.content.decode()


def test_ten_exports_an_hour_then_a_french_message(limits_store):
    user = UserFactory(email="pressee@exemple.fr")
    client = Client()
    log_in(client, user.email)
    for n in range(DATA_EXPORT_PER_ACCOUNT.limit):
        assert download(client, "json" if n % 2 else "html").status_code == 200, n
    refused = download(client, "json")
    assert refused.status_code == 429
    html = refused.content.decode()
    assert "Vous avez déjà téléchargé vos données plusieurs fois en une heure." in html
    assert "Réessayez dans 1 heure" in html
    assert AuditEvent.objects.filter(action="account.data_exported").count() == 10
    # Another account is not held up by this one's count.
    other = Client()
    log_in(other, UserFactory(email="autre@exemple.fr").email)
    assert download(other, "json").status_code == 200


def test_an_account_with_a_second_factor_checks_it_again_first():
    user = UserFactory(email="prudente@exemple.fr")
    TOTPDevice.objects.create(user=user, name="Téléphone", confirmed=True)
    client = Client()
    client.force_login(user)  # a session without a recent check of the factor
    for response in (client.get(PAGE), client.post(PAGE, {"format": "json"})):
        assert response.status_code == 302
        assert response["Location"].startswith("/mon-compte/verification/?next=")
    assert not AuditEvent.objects.filter(action="account.data_exported").exists()


def test_the_factors_are_said_configured_never_given():
    user = UserFactory(email="cles@exemple.fr")
    device = TOTPDevice.objects.create(user=user, name="Mon téléphone", confirmed=True)
    data = export_of(User.objects.get(pk=user.pk))
    (app,) = data["compte"]["double_authentification"]["applications_d_authentification"]
    assert app["nom"] == "Mon téléphone"
    assert app["etat"] == "configuré"
    assert device.key not in json.dumps(data)


def test_emails_to_a_former_address_stop_at_the_change_of_address():
    """Anne leaves anne@ancien.fr for anne@nouveau.fr; Bruno then signs up with anne@ancien.fr.
    Anne's export has her mail to the old address up to the change, none of Bruno's after."""
    anne = UserFactory(email="anne@ancien.fr", first_name="Anne", last_name="Martin")
    flows.request_password_reset("anne@ancien.fr")  # before the change: hers
    flows.request_email_change(anne, "anne@nouveau.fr")
    body = OutboxEmail.objects.get(recipient="anne@nouveau.fr").body_text
    token = next(w for w in body.split() if "/mon-compte/adresse/" in w).rstrip("/").rsplit("/")[-1]
    flows.confirm_email_change(token)
    bruno = UserFactory(email="anne@ancien.fr", first_name="Bruno", last_name="Suivant")
    flows.request_password_reset(bruno.email)  # after the change: Bruno's
    flows.request_password_reset("anne@nouveau.fr")  # hers

    emails = export_of(User.objects.get(pk=anne.pk))["courriels"]
    to_old = [e for e in emails if e["destinataire"] == "anne@ancien.fr"]
    assert any("Réinitialisation" in e["objet"] for e in to_old)
    assert not any("Bruno" in e["texte"] for e in emails)
    assert len([e for e in to_old if "Réinitialisation" in e["objet"]]) == 1
    assert [e["destinataire"] for e in emails if "Réinitialisation" in e["objet"]] == [
        "anne@ancien.fr",
        "anne@nouveau.fr",
    ]
