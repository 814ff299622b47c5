"""Personal names: letters of any language, spaces, hyphens, apostrophes, dots; no markup (#17 item 4)."""

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from portail.accounts.models import User
from portail.accounts.validators import PERSON_NAME_MESSAGE, validate_person_name
from tests.accounts.helpers import signup_data
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

MARKUP = ["<script>alert(1)</script>", "<b>", "Alice<b>", "Jean 2", "@lice", "--", "."]
NAMES = [
    "Durand",
    "Jean-Pierre",
    "O'Connor",
    "D’Artagnan",
    "J.-P.",
    "Le Gall",
    "Müller",
    "Łukasz",
    "Ελένη",
    "Анна",
    "李",
    "محمد",
    "Zoë",
    "Nguyễn",
]


@pytest.mark.parametrize("name", NAMES)
def test_names_of_any_language_are_accepted(name):
    validate_person_name(name)


@pytest.mark.parametrize("name", MARKUP)
def test_markup_digits_and_signs_are_refused(name):
    with pytest.raises(ValidationError) as caught:
        validate_person_name(name)
    assert caught.value.messages == [PERSON_NAME_MESSAGE]


@pytest.mark.parametrize("field", ["first_name", "last_name"])
def test_signup_refuses_markup_in_a_name(client, field):
    response = client.post(
        "/inscription/",
        signup_data(client, account_type="particulier", **{field: "<script>alert(1)</script>"}),
    )
    assert response.status_code == 200
    assert "Saisissez un nom fait de lettres" in response.content.decode()
    assert not User.objects.filter(email="nouvelle.personne@exemple.fr").exists()


@pytest.mark.parametrize("field", ["first_name", "last_name"])
def test_profile_refuses_markup_in_a_name(client, field):
    person = UserFactory(first_name="Claire", last_name="Martin")
    client.force_login(person)
    data = {"civilite": "MME", "last_name": "Martin", "first_name": "Claire", "phone": ""}
    data["phone"] = "06 12 34 56 78"
    data[field] = "<b>"
    response = client.post("/mon-compte/", data)
    assert response.status_code == 200
    assert "Saisissez un nom fait de lettres" in response.content.decode()
    person.refresh_from_db()
    assert (person.first_name, person.last_name) == ("Claire", "Martin")


def test_profile_accepts_a_typographic_apostrophe(client):
    person = UserFactory(first_name="Claire", last_name="Martin")
    client.force_login(person)
    data = {
        "civilite": "MME",
        "last_name": "D’Arc",
        "first_name": "Jeanne",
        "phone": "06 12 34 56 78",
    }
    assert client.post("/mon-compte/", data).status_code == 302
    person.refresh_from_db()
    assert person.last_name == "D’Arc"


def test_the_model_and_so_the_admin_refuse_markup():
    person = UserFactory.build(first_name="<script>alert(1)</script>")
    with pytest.raises(ValidationError) as caught:
        person.full_clean(exclude=["password"])
    assert "first_name" in caught.value.message_dict


def test_an_agent_cannot_be_created_with_markup_in_a_name():
    with pytest.raises(CommandError, match="Saisissez un nom fait de lettres"):
        call_command("create_agent", "agent@exemple.gouv.fr", "--national", "--last-name", "<b>")
    assert not User.objects.filter(email="agent@exemple.gouv.fr").exists()
