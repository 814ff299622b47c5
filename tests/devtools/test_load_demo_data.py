"""`manage.py load_demo_data` (`make demo`): every app's demo data, twice without change."""

import io

import pytest
from django.core.management import call_command

from portail.accounts.models import User
from portail.companies.models import Establishment

pytestmark = pytest.mark.django_db


def test_load_demo_data_loads_every_app_and_is_idempotent():
    out = io.StringIO()
    call_command("load_demo_data", stdout=out)
    counts = (User.objects.count(), Establishment.objects.count())
    call_command("load_demo_data", stdout=io.StringIO())
    assert (User.objects.count(), Establishment.objects.count()) == counts
    text = out.getvalue()
    assert "guy.duponttest@cfi-atlantique.demo.fr" in text  # accounts
    assert "Centres agréés de démonstration : 3." in text  # backoffice
    assert "CERES (client OpenID Connect « ceres-demo »)" in text  # oidc
