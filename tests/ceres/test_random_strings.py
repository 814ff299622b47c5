"""CERES' random strings (ceres.web.random_strings): Django's get_random_string's alphabet and
length, each character uniform, for the alphabets CERES draws from (the state, nonce and PKCE
verifier's 62 characters, the session keys' 36)."""

import collections
import math
import string

import pytest
from django.contrib.sessions.backends.base import VALID_KEY_CHARS
from django.utils.crypto import RANDOM_STRING_CHARS

from ceres.web.random_strings import random_string

pytestmark = pytest.mark.django_db  # the suite's autouse fixtures clear the cache (in the database)


@pytest.mark.parametrize(
    ("length", "alphabet"),
    [
        (32, RANDOM_STRING_CHARS),
        (64, RANDOM_STRING_CHARS),
        (32, VALID_KEY_CHARS),
        (43, string.ascii_letters + string.digits + "-._~"),  # 66: a third of the bytes dropped
        (5, "ab"),
    ],
)
def test_strings_of_the_alphabet_and_length_each_character_uniform(length, alphabet):
    draws = 3000
    strings = [random_string(length, alphabet) for _ in range(draws)]
    assert {len(s) for s in strings} == {length}
    if length >= 32:
        assert len(set(strings)) == draws
    counts = collections.Counter("".join(strings))
    assert set(counts) == set(alphabet)
    # Each character's count within 6 standard deviations of its expectation; the bias of a
    # byte taken modulo the alphabet's size (without dropping) would be several times that.
    expected = draws * length / len(alphabet)
    sigma = math.sqrt(expected * (1 - 1 / len(alphabet)))
    assert all(abs(n - expected) < 6 * sigma for n in counts.values()), counts.most_common(3)


def test_the_default_alphabet_is_djangos():
    assert set(random_string(4000)) == set(RANDOM_STRING_CHARS)


def test_the_csrf_strings_are_djangos_and_unmask_to_the_secret(monkeypatch):
    from django.middleware import csrf

    from ceres.web.apps import new_csrf_string

    monkeypatch.setattr(csrf, "_get_new_csrf_string", new_csrf_string)
    secret = new_csrf_string()
    assert len(secret) == csrf.CSRF_SECRET_LENGTH
    assert set(secret) <= set(csrf.CSRF_ALLOWED_CHARS)
    masked = {csrf._mask_cipher_secret(secret) for _ in range(50)}
    assert len(masked) == 50  # a fresh mask each time (the BREACH defence)
    assert {csrf._unmask_cipher_token(token) for token in masked} == {secret}
