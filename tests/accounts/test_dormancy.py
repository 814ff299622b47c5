"""Dormant accounts (#14 item 2): the warning, the login that clears it, the deactivation (its
sessions ended, its reactivation link), the last gestionnaire of a démarche (the agents of the
region warned first), the reactivation, and the login of a deactivated account."""

import re
from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone

from portail.accounts import dormancy
from portail.accounts.flows import delete_account
from portail.accounts.models import AccountToken, User, UserSession
from portail.audit.models import AuditEvent
from portail.core import housekeeping
from portail.notifications.models import OutboxEmail
from tests.backoffice.factories import AgentFactory, CentreFactory
from tests.factories import PASSWORD, EstablishmentFactory, UserFactory
from tests.habilitations.factories import ceres, habilitate

pytestmark = pytest.mark.django_db

DAY = timedelta(days=1)


def ago(days: float):
    return timezone.now() - days * DAY


def idle(email: str, *, days: float = 400, **fields) -> User:
    """An activated account whose last login is `days` old."""
    user = UserFactory(email=email)
    values = {
        "last_login": ago(days),
        "email_verified_at": ago(days + 10),
        "date_joined": ago(days + 10),
        **fields,
    }
    User.objects.filter(pk=user.pk).update(**values)
    user.refresh_from_db()
    return user


def emails_to(address: str, subject: str = "") -> list[OutboxEmail]:
    return [e for e in OutboxEmail.objects.filter(recipient=address) if subject in e.subject]


def events(action: str, user: User) -> int:
    return AuditEvent.objects.filter(
        action=action, target_type="accounts.user", target_id=str(user.pk)
    ).count()


def log_in(client: Client, email: str, password: str = PASSWORD):
    return client.post("/", {"email": email, "password": password})


# --- the warning --------------------------------------------------------------------------------


def test_an_account_unused_for_twelve_months_is_warned_once_and_the_others_are_not():
    dormant = idle("dormant@exemple.fr", days=366)
    never_logged_in = UserFactory(email="jamais@exemple.fr")
    User.objects.filter(pk=never_logged_in.pk).update(
        last_login=None, email_verified_at=ago(400), date_joined=ago(401)
    )
    recent = idle("recent@exemple.fr", days=364)
    staff = idle("admin@exemple.fr", days=500, is_staff=True)
    unactivated = idle("nonactive@exemple.fr", days=500, email_verified_at=None)
    reactivated = idle("revenu@exemple.fr", days=500, reactivated_at=ago(10))

    assert housekeeping.run()["dormant_accounts_warned"] == 2

    for user in (dormant, never_logged_in):
        user.refresh_from_db()
        assert user.dormancy_warned_at is not None
        (warning,) = emails_to(user.email, "sera bientôt désactivé")
        assert "Sans connexion de votre part d’ici le" in warning.body_text
        assert events("account.dormancy_warned", user) == 1
    for user in (recent, staff, unactivated, reactivated):
        user.refresh_from_db()
        assert user.dormancy_warned_at is None
        assert emails_to(user.email) == []

    assert dormancy.warn_dormant_accounts() == 0  # once
    assert len(emails_to(dormant.email)) == 1


def test_a_login_clears_the_warning_and_the_account_stays_active():
    user = idle("revient@exemple.fr")
    dormancy.warn_dormant_accounts()
    User.objects.filter(pk=user.pk).update(dormancy_warned_at=ago(31))

    assert log_in(Client(), user.email).status_code == 302

    user.refresh_from_db()
    assert user.dormancy_warned_at is None
    assert events("account.dormancy_cleared", user) == 1
    assert dormancy.deactivate_dormant_accounts() == 0
    user.refresh_from_db()
    assert user.is_active


def test_nothing_happens_before_the_thirty_days_of_notice():
    user = idle("patient@exemple.fr")
    User.objects.filter(pk=user.pk).update(dormancy_warned_at=ago(29))
    assert dormancy.deactivate_dormant_accounts() == 0
    user.refresh_from_db()
    assert user.is_active
    assert user.deactivated_at is None


# --- the deactivation and the reactivation ------------------------------------------------------


def test_deactivation_ends_the_sessions_and_mails_a_link_that_reactivates_once(mailbox):
    user = UserFactory(email="endormi@exemple.fr")
    browser = Client()
    assert log_in(browser, user.email).status_code == 302
    assert browser.get("/mon-compte/").status_code == 200
    assert UserSession.objects.filter(user=user).count() == 1
    # A year later, warned a month ago, not back since.
    User.objects.filter(pk=user.pk).update(
        last_login=ago(400), date_joined=ago(420), dormancy_warned_at=ago(31)
    )

    assert housekeeping.run()["dormant_accounts_deactivated"] == 1

    user.refresh_from_db()
    assert not user.is_active
    assert user.deactivated_at is not None
    assert user.dormancy_warned_at is None
    assert not UserSession.objects.filter(user=user).exists()
    assert not Session.objects.exists()
    assert browser.get("/mon-compte/").status_code == 302  # logged out
    deactivated = AuditEvent.objects.get(action="account.deactivated_dormant")
    assert deactivated.data == {"sessions_ended": 1, "sole_gestionnaire": False}
    # The habilitations are kept: nothing revoked.
    assert not AuditEvent.objects.filter(action="habilitation.revoked").exists()

    message = mailbox.wait_for(user.email, "Votre compte a été désactivé")
    link = mailbox.link(message, "/reactivation/")
    token = link.rsplit("/", 2)[-2]
    assert token not in "".join(AccountToken.objects.values_list("token_hash", flat=True))

    page = browser.get(link)
    assert page.status_code == 200
    assert "Réactiver mon compte" in page.content.decode()
    user.refresh_from_db()
    assert not user.is_active  # a GET (a mail scanner) changes nothing

    response = browser.post(link)
    assert response.status_code == 302
    assert response["Location"] == "/"
    user.refresh_from_db()
    assert user.is_active
    assert user.deactivated_at is None
    assert user.reactivated_at is not None
    assert events("account.reactivated", user) == 1
    # A reactivated account is not dormant: the next chore leaves it alone.
    assert dormancy.warn_dormant_accounts() == 0

    again = browser.post(link)
    assert again.status_code == 410
    assert "Lien déjà utilisé" in again.content.decode()
    assert log_in(Client(), user.email).status_code == 302


def test_a_reactivation_link_unknown_or_expired_is_refused():
    user = idle("lien@exemple.fr")
    User.objects.filter(pk=user.pk).update(dormancy_warned_at=ago(31))
    dormancy.deactivate_dormant_accounts()
    AccountToken.objects.filter(user=user).update(expires_at=ago(1))
    body = OutboxEmail.objects.get(recipient=user.email, subject__contains="désactivé").body_text
    link = re.search(r"http://\S+/reactivation/\S+/", body).group(0)

    assert Client().get(link).status_code == 410
    assert Client().post(link).status_code == 410
    assert Client().get("/reactivation/" + "x" * 43 + "/").status_code == 404
    user.refresh_from_db()
    assert not user.is_active


# --- the last gestionnaire of a démarche --------------------------------------------------------


def test_the_last_gestionnaire_waits_for_the_agents_of_the_region_to_be_warned():
    _demarche, _, manager = ceres()
    centre = CentreFactory(establishment=EstablishmentFactory(postcode="44000"))  # region 52
    user = idle("seul.gestionnaire@exemple.fr")
    habilitate(user, manager, centre.establishment)
    region_agent = AgentFactory(regions=["52"])
    other_region = AgentFactory(regions=["11"])
    national = AgentFactory(is_national=True)
    User.objects.filter(pk=user.pk).update(dormancy_warned_at=ago(31))

    assert dormancy.deactivate_dormant_accounts() == 1  # one step: the agents warned

    user.refresh_from_db()
    assert user.is_active
    assert user.dormancy_agents_warned_at is not None
    (told,) = emails_to(region_agent.user.email, "Un gestionnaire inactif")
    assert user.email in told.body_text
    assert centre.establishment.siret in told.body_text
    assert emails_to(other_region.user.email) == []
    assert emails_to(national.user.email) == []
    warned = AuditEvent.objects.get(action="account.dormancy_agents_warned")
    assert warned.data["agents"] == 1

    assert dormancy.deactivate_dormant_accounts() == 0  # warned once, waiting
    assert len(emails_to(region_agent.user.email)) == 1
    User.objects.filter(pk=user.pk).update(dormancy_agents_warned_at=ago(29))
    assert dormancy.deactivate_dormant_accounts() == 0
    user.refresh_from_db()
    assert user.is_active

    User.objects.filter(pk=user.pk).update(dormancy_agents_warned_at=ago(31))
    assert dormancy.deactivate_dormant_accounts() == 1
    user.refresh_from_db()
    assert not user.is_active
    assert AuditEvent.objects.get(action="account.deactivated_dormant").data["sole_gestionnaire"]


def test_without_agents_for_the_region_the_national_agents_are_warned():
    _, _, manager = ceres()
    establishment = EstablishmentFactory(postcode="75001")  # Île-de-France, no centre
    user = idle("parisien@exemple.fr")
    habilitate(user, manager, establishment)
    national = AgentFactory(is_national=True)
    AgentFactory(regions=["52"])
    User.objects.filter(pk=user.pk).update(dormancy_warned_at=ago(31))

    dormancy.deactivate_dormant_accounts()

    assert len(emails_to(national.user.email, "Un gestionnaire inactif")) == 1


def test_a_gestionnaire_with_an_active_colleague_is_deactivated_at_once():
    _, _, manager = ceres()
    establishment = EstablishmentFactory()
    user = idle("un.parmi.deux@exemple.fr")
    habilitate(user, manager, establishment)
    habilitate(UserFactory(email="collegue@exemple.fr"), manager, establishment)
    agent = AgentFactory(regions=["52"])
    User.objects.filter(pk=user.pk).update(dormancy_warned_at=ago(31))

    assert dormancy.deactivate_dormant_accounts() == 1

    user.refresh_from_db()
    assert not user.is_active
    assert emails_to(agent.user.email) == []


# --- the login of a deactivated account ---------------------------------------------------------


def deactivated(email: str) -> User:
    user = idle(email)
    User.objects.filter(pk=user.pk).update(dormancy_warned_at=ago(31))
    dormancy.deactivate_dormant_accounts()
    user.refresh_from_db()
    assert not user.is_active
    return user


def test_the_right_password_of_a_deactivated_account_sends_a_new_link_the_wrong_one_tells_nothing(
    limits_store,
):
    user = deactivated("retour@exemple.fr")
    sent = len(emails_to(user.email))

    wrong = log_in(Client(), user.email, "Pas le bon mot de passe 2026")
    unknown = log_in(Client(), "personne@exemple.fr", "Pas le bon mot de passe 2026")
    for response in (wrong, unknown):
        html = response.content.decode()
        assert "Adresse électronique ou mot de passe incorrect." in html
        assert "désactivé" not in html
    assert len(emails_to(user.email)) == sent

    right = log_in(Client(), user.email)
    assert right.status_code == 200
    assert "Votre compte a été désactivé faute d’utilisation" in right.content.decode()
    assert len(emails_to(user.email, "Réactivation de votre compte")) == 1
    assert events("account.reactivation_sent", user) == 1
    user.refresh_from_db()
    assert not user.is_active

    # Rate-limited per address: three links an hour, the page says the same.
    for _ in range(4):
        assert "faute d’utilisation" in log_in(Client(), user.email).content.decode()
    assert len(emails_to(user.email, "Réactivation de votre compte")) == 3


def test_a_closed_account_is_not_reactivated_by_its_password():
    user = UserFactory(email="ferme@exemple.fr")
    delete_account(user)
    response = log_in(Client(), "ferme@exemple.fr")
    assert "Adresse électronique ou mot de passe incorrect." in response.content.decode()
    assert not OutboxEmail.objects.filter(subject__contains="Réactivation").exists()
