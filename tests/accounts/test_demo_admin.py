"""Demo accounts and the admin pages of accounts."""

import io

import pytest

from portail.accounts import demo
from portail.accounts.models import User
from portail.companies import demo as companies_demo

pytestmark = pytest.mark.django_db


def test_demo_accounts_log_in_and_loading_twice_changes_nothing(client):
    companies_demo.load(io.StringIO())
    lines = demo.load(io.StringIO())
    demo.load(io.StringIO())
    assert User.objects.filter(email__endswith=".demo.fr").count() == len(demo.DEMO_ACCOUNTS)
    assert any("guy.duponttest@cfi-atlantique.demo.fr" in line for line in lines)
    guy = User.objects.get(email="guy.duponttest@cfi-atlantique.demo.fr")
    assert guy.establishment.siret == "90310000600019"
    assert guy.establishment_verified
    response = client.post("/", {"email": guy.email, "password": demo.DEMO_PASSWORD})
    assert response.status_code == 302


def test_admin_lists_accounts_and_tokens(admin_client):
    User.objects.create_user("x@exemple.fr", "Un mot de passe assez long")
    assert admin_client.get("/admin/accounts/user/").status_code == 200
    assert admin_client.get("/admin/accounts/accounttoken/").status_code == 200
    assert admin_client.get("/admin/accounts/accounttoken/add/").status_code == 403
