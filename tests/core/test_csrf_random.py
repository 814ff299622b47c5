"""The CSRF middleware's random strings: Django's alphabet and length, uniform, and Django's
protection working with them."""

import collections
import re

import pytest
from django.middleware import csrf

from portail.core.csrf_random import random_csrf_string
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def test_installed_in_place_of_djangos_drawing():
    assert csrf._get_new_csrf_string is random_csrf_string


def test_strings_of_djangos_alphabet_and_length_each_character_uniform():
    counts: collections.Counter[str] = collections.Counter()
    strings = {random_csrf_string() for _ in range(4000)}
    assert len(strings) == 4000
    for s in strings:
        assert len(s) == csrf.CSRF_SECRET_LENGTH
        assert set(s) <= set(csrf.CSRF_ALLOWED_CHARS)
        counts.update(s)
    # 128,000 characters over 62: 2,064.5 each; a byte's bias (% 62 without the rejection)
    # would give the first 8 characters about 2,500 each.
    expected = 4000 * 32 / 62
    assert set(counts) == set(csrf.CSRF_ALLOWED_CHARS)
    assert all(abs(n - expected) < 300 for n in counts.values()), counts.most_common(3)


def test_a_form_posts_with_the_masked_token_and_not_without(client):
    client.handler.enforce_csrf_checks = True
    page = client.get("/")
    token = page.context["csrf_token"]
    assert len(str(token)) == csrf.CSRF_TOKEN_LENGTH
    user = UserFactory()
    refused = client.post("/", {"email": user.email, "password": PASSWORD})
    assert refused.status_code == 403
    accepted = client.post(
        "/", {"email": user.email, "password": PASSWORD, "csrfmiddlewaretoken": str(token)}
    )
    assert accepted.status_code == 302
    # Two pages, two masks of the same secret (the login drew a new one); the second "Mon
    # compte" is written from its kept pieces (no template, no context): read from the page.
    first, second = (page_token(client.get("/mon-compte/").content.decode()) for _ in "12")
    assert first != second
    assert csrf._unmask_cipher_token(first) == csrf._unmask_cipher_token(second)


def page_token(html: str) -> str:
    found = re.search(r'name="csrfmiddlewaretoken" value="([^"]*)"', html)
    assert found is not None
    return found.group(1)
