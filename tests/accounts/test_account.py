"""'Mon compte': coordonnées, change of email address, deletion (refused for a sole gestionnaire)."""

import pytest
from django.test import Client
from django.utils import timezone

from portail.accounts.models import User
from portail.audit.models import AuditEvent
from portail.habilitations.models import Habilitation
from portail.notifications.models import OutboxEmail
from tests.accounts.helpers import link_in, path_of
from tests.factories import (
    PASSWORD,
    EstablishmentFactory,
    HabilitationFactory,
    RoleFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def user(client):
    person = UserFactory(email="claire@exemple.fr", first_name="Claire", last_name="Martin")
    client.force_login(person)
    return person


def test_every_account_page_needs_login():
    anonymous = Client()
    for path in [
        "/mon-compte/",
        "/mon-compte/mot-de-passe/",
        "/mon-compte/adresse/",
        "/mon-compte/suppression/",
    ]:
        response = anonymous.get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith("/connexion/?next=")


def test_account_page_shows_the_person(client, user):
    html = client.get("/mon-compte/").content.decode()
    assert "Mon compte" in html
    assert "claire@exemple.fr" in html
    assert 'value="Martin"' in html


def test_profile_update_validates_the_phone_and_keeps_the_form(client, user):
    bad = client.post(
        "/mon-compte/",
        {"civilite": "M", "last_name": "Bernard", "first_name": "Claire", "phone": "123"},
    )
    html = bad.content.decode()
    assert "Saisissez un numéro de téléphone valide" in html
    assert 'value="Bernard"' in html
    user.refresh_from_db()
    assert user.last_name == "Martin"
    ok = client.post(
        "/mon-compte/",
        {
            "civilite": "M",
            "last_name": "Bernard",
            "first_name": "Claire",
            "phone": "01 46 29 25 54",
        },
    )
    assert ok["Location"] == "/mon-compte/"
    user.refresh_from_db()
    assert (user.civilite, user.last_name, user.phone) == ("M", "Bernard", "+33146292554")
    event = AuditEvent.objects.get(action="account.profile_updated")
    assert set(event.data["fields"]) == {"civilite", "last_name", "phone"}
    # Stored in E.164, shown back as a French person writes it.
    assert 'value="01 46 29 25 54"' in client.get("/mon-compte/").content.decode()


def test_profile_update_cannot_touch_other_fields(client, user):
    client.post(
        "/mon-compte/",
        {
            "civilite": "MME",
            "last_name": "Martin",
            "first_name": "Claire",
            "phone": "0612345678",
            "email": "pirate@exemple.fr",
            "is_staff": "on",
        },
    )
    user.refresh_from_db()
    assert user.email == "claire@exemple.fr"
    assert not user.is_staff


def test_email_change_confirmed_from_the_new_address(client, user):
    response = client.post(
        "/mon-compte/adresse/",
        {"new_email": "Claire.Nouvelle@exemple.fr", "current_password": PASSWORD},
    )
    assert response["Location"] == "/mon-compte/"
    notice = OutboxEmail.objects.get(recipient="claire@exemple.fr")
    assert "claire.nouvelle@exemple.fr" in notice.body_text
    confirm = OutboxEmail.objects.get(recipient="claire.nouvelle@exemple.fr")
    path = path_of(link_in(confirm.body_text, "/mon-compte/adresse/"))
    user.refresh_from_db()
    assert user.email == "claire@exemple.fr"  # not before confirmation
    other_browser = Client()
    assert "Confirmer ma nouvelle adresse" in other_browser.get(path).content.decode()
    assert other_browser.post(path).status_code == 302
    user.refresh_from_db()
    assert user.email == "claire.nouvelle@exemple.fr"
    assert AuditEvent.objects.filter(action="account.email_changed", target_id=str(user.pk))
    assert other_browser.post(path).status_code == 410  # one use
    # The new address is the login now.
    fresh = Client()
    assert (
        fresh.post("/", {"email": "claire.nouvelle@exemple.fr", "password": PASSWORD}).status_code
        == 302
    )


def test_email_change_needs_the_password(client, user):
    response = client.post(
        "/mon-compte/adresse/", {"new_email": "x@exemple.fr", "current_password": "faux"}
    )
    assert "Le mot de passe actuel est incorrect." in response.content.decode()
    assert not OutboxEmail.objects.exists()


def test_email_change_to_a_taken_address_tells_its_owner_not_the_asker(client, user):
    UserFactory(email="prise@exemple.fr")
    response = client.post(
        "/mon-compte/adresse/", {"new_email": "prise@exemple.fr", "current_password": PASSWORD}
    )
    assert response["Location"] == "/mon-compte/"  # same answer as for a free address
    taken = OutboxEmail.objects.get(recipient="prise@exemple.fr")
    assert "Tentative d'utilisation" in taken.subject
    assert "/mon-compte/adresse/" not in taken.body_text


def test_delete_account_wipes_personal_data_and_revokes_habilitations(client, user):
    habilitation = HabilitationFactory(user=user)  # not a gestionnaire role
    page = client.get("/mon-compte/suppression/").content.decode()
    assert "Supprimer définitivement mon compte" in page
    wrong = client.post("/mon-compte/suppression/", {"current_password": "faux"})
    assert "Le mot de passe actuel est incorrect." in wrong.content.decode()
    response = client.post("/mon-compte/suppression/", {"current_password": PASSWORD})
    assert response["Location"] == "/"
    gone = User.objects.get(pk=user.pk)
    assert not gone.is_active
    assert "claire" not in gone.email
    assert gone.first_name == ""
    assert gone.phone == ""
    assert not gone.has_usable_password()
    habilitation.refresh_from_db()
    assert habilitation.revoked_at is not None
    assert AuditEvent.objects.filter(action="account.deleted", actor_label="claire@exemple.fr")
    assert OutboxEmail.objects.filter(recipient="claire@exemple.fr", subject__contains="supprimé")
    assert "_auth_user_id" not in client.session
    assert (
        Client().post("/", {"email": "claire@exemple.fr", "password": PASSWORD}).status_code == 200
    )


def test_delete_refused_while_sole_gestionnaire(client, user):
    role = RoleFactory(can_manage=True)
    establishment = EstablishmentFactory()
    HabilitationFactory(user=user, role=role, establishment=establishment)
    page = client.get("/mon-compte/suppression/")
    assert "Vous êtes le seul gestionnaire" in page.content.decode()
    response = client.post("/mon-compte/suppression/", {"current_password": PASSWORD})
    assert response.status_code == 409
    html = response.content.decode()
    assert establishment.siret in html
    assert User.objects.get(pk=user.pk).is_active
    # With a second gestionnaire of the same démarche and establishment, deletion goes through.
    HabilitationFactory(user=UserFactory(), role=role, establishment=establishment)
    assert (
        client.post("/mon-compte/suppression/", {"current_password": PASSWORD}).status_code == 302
    )
    assert not User.objects.get(pk=user.pk).is_active
    assert Habilitation.objects.active().managing().filter(establishment=establishment).count() == 1


def test_revoked_gestionnaire_does_not_count(client, user):
    role = RoleFactory(can_manage=True)
    establishment = EstablishmentFactory()
    HabilitationFactory(user=user, role=role, establishment=establishment)
    HabilitationFactory(
        user=UserFactory(), role=role, establishment=establishment, revoked_at=timezone.now()
    )
    response = client.post("/mon-compte/suppression/", {"current_password": PASSWORD})
    assert response.status_code == 409
