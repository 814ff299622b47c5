"""Input lengths at sign-up and in "Mon compte": over the bound, a French message saying it; the
browser cuts nothing (#17 item 3)."""

import html
import re

import pytest

from portail.accounts.models import User
from tests.accounts.helpers import signup_data
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def text(response) -> str:
    return html.unescape(response.content.decode())


def test_no_field_of_the_signup_page_cuts_what_is_typed(client):
    page = client.get("/inscription/").content.decode()
    assert re.search(r'name="first_name"', page)
    assert "maxlength" not in page


def test_a_151_character_first_name_is_refused_saying_the_limit(client):
    response = client.post(
        "/inscription/", signup_data(client, account_type="particulier", first_name="A" * 151)
    )
    assert response.status_code == 200
    assert "Ce texte doit comporter au plus 150 caractères (vous en avez saisi 151)." in text(
        response
    )
    assert not User.objects.filter(email="nouvelle.personne@exemple.fr").exists()


def test_the_profile_says_the_limit_of_a_name(client):
    person = UserFactory(first_name="Claire", last_name="Martin")
    client.force_login(person)
    assert "maxlength" not in client.get("/mon-compte/").content.decode()
    data = {"civilite": "MME", "last_name": "B" * 200, "first_name": "Claire"}
    response = client.post("/mon-compte/", {**data, "phone": "06 12 34 56 78"})
    assert "au plus 150 caractères (vous en avez saisi 200)" in text(response)
    person.refresh_from_db()
    assert person.last_name == "Martin"
