""" "Mon compte" rendered once per variant with marks (portail.accounts.account_html): the page
and its headers are the same bytes as the template's, for every kind of value, apart from the
CSRF token and the nonce of each request."""

import re

import pytest
from django.test import Client

from portail.accounts import account_html
from portail.accounts.models import User
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]*)"')
NONCE = re.compile(r'nonce="([^"]*)"')

PEOPLE = [
    # What HTML escapes, in every value shown.
    {
        "first_name": "Zoé <b>&amp;",
        "last_name": 'O\'Hara "x" & <i>',
        "phone": "+33612345678",
        "email": "o.hara+<x>@exemple.fr",
        "declared_siret": "12345678901234",
        "declared_company_name": 'Dupont & Fils <SARL> "l\'atelier"',
    },
    # Empty values: no phone, no first name, no civility; a name that looks like a mark.
    {"first_name": "", "last_name": "keptmark2&x", "phone": "", "civilite": ""},
    {"first_name": "Léa", "last_name": "", "phone": "+33899123456", "civilite": "M"},
    {"first_name": "", "last_name": "", "phone": ""},  # the header shows the address
    # The account's types and a verified establishment.
    {"account_type": User.AccountType.PARTICULIER, "phone": "+33144556677"},
    {
        "account_type": User.AccountType.PARTENAIRE,
        "declared_siret": "98765432109876",
        "declared_company_name": "Partenaire",
        "establishment_verified": True,
    },
    {"declared_siret": "", "declared_company_name": "Sans SIRET"},
    # Spaces around a name: the header strips the full name, the field does not.
    {"first_name": " Anne ", "last_name": "Lee "},
]


def normalized(html: str) -> str:
    return NONCE.sub('nonce=""', TOKEN.sub('name="csrfmiddlewaretoken"', html))


def page(client: Client) -> tuple[str, dict[str, str]]:
    response = client.get("/mon-compte/")
    assert response.status_code == 200
    return response.content.decode(), dict(response.items())


def same_request_values(html: str, headers: dict[str, str]) -> None:
    """One token on the page's two forms; the scripts' nonce is the header's."""
    tokens = set(TOKEN.findall(html))
    assert len(tokens) == 1
    assert len(TOKEN.findall(html)) == 2
    for nonce in NONCE.findall(html):
        assert f"'nonce-{nonce}'" in headers["Content-Security-Policy"]


def without_request_values(headers: dict[str, str]) -> dict[str, str]:
    return {
        name: re.sub(r"'nonce-[^']*'", "'nonce-'", value)
        for name, value in headers.items()
        if name not in {"X-Request-Id", "Set-Cookie"}
    }


@pytest.fixture(autouse=True)
def nothing_kept():
    account_html.forget()
    yield
    account_html.forget()


@pytest.mark.parametrize("values", PEOPLE)
def test_the_page_is_the_template_s_for_every_kind_of_value(values):
    client = Client()
    client.force_login(UserFactory(**values))
    full, full_headers = page(client)  # the variant's first page: the template's
    kept, kept_headers = page(client)  # then the kept pieces, filled in
    again, _ = page(client)
    assert normalized(kept) == normalized(full)
    assert normalized(again) == normalized(full)
    assert without_request_values(kept_headers) == without_request_values(full_headers)
    same_request_values(kept, kept_headers)
    assert TOKEN.findall(kept) != TOKEN.findall(again)  # each page its own mask
    strips = values.get("first_name", "x").strip() != values.get("first_name", "x")
    assert (None in account_html._kept.values()) is strips  # rendered in full: they differed


def test_two_people_of_one_variant_share_it():
    first, second = Client(), Client()
    first.force_login(UserFactory(first_name="Ada", last_name="<Lovelace>"))
    second.force_login(UserFactory(first_name="Alan", last_name="Turing & co"))
    page(first)
    assert len(account_html._kept) == 1
    html, _ = page(second)
    assert len(account_html._kept) == 1
    assert "Alan Turing &amp; co</span>" in html
    assert 'value="Turing &amp; co"' in html
    assert "Lovelace" not in html


def test_the_kept_page_s_token_is_accepted():
    client = Client(enforce_csrf_checks=True)
    client.force_login(UserFactory(civilite="MME", first_name="Eve", last_name="Martin"))
    page(client)
    html, _ = page(client)
    token = TOKEN.findall(html)[0]
    form = {"civilite": "MME", "last_name": "Martin", "first_name": "Eve", "phone": "0612345678"}
    assert client.post("/mon-compte/", form).status_code == 403
    answer = client.post("/mon-compte/", {**form, "csrfmiddlewaretoken": token})
    assert answer.status_code == 302


def test_messages_and_form_errors_are_the_template_s():
    client = Client()
    client.force_login(UserFactory(first_name="Max", last_name="Mustermann <&>"))
    page(client)
    page(client)  # kept
    form = {"civilite": "M", "last_name": "Bernard & <b>", "first_name": "Max", "phone": "123"}
    errors = client.post("/mon-compte/", form)
    assert errors.status_code == 200
    html = errors.content.decode()
    assert "Saisissez un numéro de téléphone valide" in html
    assert 'value="Bernard &amp; &lt;b&gt;"' in html
    # A message after a change: the page with the message, then without it (kept again).
    valid = {**form, "last_name": "O'Neil", "phone": "06 12 34 56 78"}
    saved = client.post("/mon-compte/", valid, follow=True)
    shown = saved.content.decode()
    assert "Vos coordonnées ont été enregistrées." in shown
    assert 'value="O&#x27;Neil"' in shown
    after, _ = page(client)  # kept (the variant is known)
    account_html.forget()
    full, _ = page(client)  # the template's
    assert "Vos coordonnées ont été enregistrées." not in after
    assert normalized(after) == normalized(full)
