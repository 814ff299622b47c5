"""The refresh grant's plain SQL (portail.oidc.refresh_rows) writes the rows DOT would write."""

import hashlib
from datetime import timedelta

import pytest
from django.utils import timezone
from oauth2_provider.models import AccessToken, RefreshToken

from portail.oidc import refresh_rows
from portail.oidc.tokens import checksum

pytestmark = pytest.mark.django_db


def test_a_refresh_writes_the_rows_dot_would(client, user, flow, settings):
    tokens = flow.tokens(client)
    old_access = AccessToken.objects.get()
    old_refresh = RefreshToken.objects.get()

    before = timezone.now()
    renewed = flow.refresh(client, tokens["refresh_token"]).json()
    after = timezone.now()

    # The presented refresh token: revoked, let go of its access token, which is gone.
    old_refresh.refresh_from_db()
    assert before <= old_refresh.revoked <= after
    assert old_refresh.access_token is None
    assert not AccessToken.objects.filter(pk=old_access.pk).exists()

    access = AccessToken.objects.get()
    assert access.user == user
    assert access.application == old_access.application
    assert access.source_refresh_token == old_refresh
    assert access.id_token is None
    assert access.scope == old_access.scope == renewed["scope"]
    assert access.resource == []
    assert access.token == ""  # RFC 9700 storage: only the checksum
    assert access.token_checksum == hashlib.sha256(renewed["access_token"].encode()).hexdigest()
    lifetime = timedelta(seconds=settings.OAUTH2_PROVIDER["ACCESS_TOKEN_EXPIRE_SECONDS"])
    assert before + lifetime <= access.expires <= after + lifetime
    assert before <= access.created <= after
    assert access.updated == access.created

    refresh = RefreshToken.objects.get(revoked__isnull=True)
    assert refresh.user == user
    assert refresh.application == old_refresh.application
    assert refresh.access_token == access
    assert refresh.token_family == old_refresh.token_family
    assert refresh.token == ""
    assert refresh.token_checksum == hashlib.sha256(renewed["refresh_token"].encode()).hexdigest()
    assert refresh.resource == []
    assert before <= refresh.created <= after


def test_the_new_rows_fill_every_column_of_dots_models():
    # A column added by a DOT upgrade must be written here too (or have a database default).
    def columns(model):
        return {field.column for field in model._meta.concrete_fields if not field.primary_key}

    assert set(refresh_rows._NEW_ACCESS_TOKEN) == columns(AccessToken)
    assert set(refresh_rows._NEW_REFRESH_TOKEN) == columns(RefreshToken)


def test_find_live_reads_the_token_its_scope_expiry_and_user(client, user, flow):
    tokens = flow.tokens(client)
    access = AccessToken.objects.get()
    live = refresh_rows.find_live(tokens["refresh_token"])
    stored = RefreshToken.objects.get()
    assert live.id == stored.pk
    assert live.token_family == stored.token_family
    assert (live.user_id, live.application_id) == (user.pk, access.application_id)
    assert live.access_token_id == access.pk
    assert live.original_scope == access.scope
    assert live.access_expires == access.expires  # timezone-aware on every database
    assert live.user_is_active is True
    assert live.resource == []
    assert refresh_rows.find_live("not-a-token") is None


@pytest.mark.django_db(transaction=True)  # autocommit, as in production: constraints checked
def test_a_second_rotation_of_the_same_token_writes_nothing(transactional_db, client, user, flow):
    tokens = flow.tokens(client)
    live = refresh_rows.find_live(tokens["refresh_token"])
    new = {
        "scope": "openid",
        "expires": timezone.now() + timedelta(minutes=5),
        "resource": [],
    }
    assert refresh_rows.rotate(live, access_token="a1", refresh_token="r1", **new)
    assert not refresh_rows.rotate(live, access_token="a2", refresh_token="r2", **new)
    assert AccessToken.objects.count() == 1
    assert RefreshToken.objects.filter(revoked__isnull=True).get().token_checksum == (
        checksum("r1")
    )
