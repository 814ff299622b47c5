"""Every text field a person types has the same bound in its form and its model (#17 item 3)."""

import pytest

from portail.accounts.forms import ProfileForm, SignupForm
from portail.accounts.models import User
from portail.backoffice.forms import (
    REVOKE_REASON_MAX_LENGTH,
    CentreCreateForm,
    CentreEditForm,
    CloseCentreForm,
    LinkedSiteForm,
)
from portail.centres.models import Centre, LinkedSite
from portail.habilitations.mes_demarches_forms import AccessRequestForm, RefuseForm
from portail.habilitations.models import AccessRequest, Habilitation

pytestmark = pytest.mark.django_db

PAIRS = [
    (SignupForm, "last_name", User, "last_name"),
    (SignupForm, "first_name", User, "first_name"),
    (SignupForm, "company_name", User, "declared_company_name"),
    (SignupForm, "address", User, "declared_address"),
    (SignupForm, "commune", User, "declared_commune"),
    (SignupForm, "email", User, "email"),
    (ProfileForm, "last_name", User, "last_name"),
    (ProfileForm, "first_name", User, "first_name"),
    (CentreCreateForm, "letter_name", Centre, "letter_name"),
    (CentreCreateForm, "letter_address", Centre, "letter_address"),
    (CentreCreateForm, "agrement_reference", Centre, "agrement_reference"),
    (CentreEditForm, "letter_address", Centre, "letter_address"),
    (CloseCentreForm, "reason", Centre, "closed_reason"),
    (LinkedSiteForm, "label", LinkedSite, "label"),
    (LinkedSiteForm, "address", LinkedSite, "address"),
    (AccessRequestForm, "message", AccessRequest, "message"),
    (RefuseForm, "reason", AccessRequest, "decision_reason"),
]


@pytest.mark.parametrize(("form", "field", "model", "column"), PAIRS)
def test_form_and_model_hold_the_same_bound(form, field, model, column):
    bound = model._meta.get_field(column).max_length
    assert bound is not None
    assert form.base_fields[field].max_length == bound


def test_an_agents_revocation_reason_fits_the_habilitation_with_its_prefix():
    column = Habilitation._meta.get_field("revoke_reason").max_length
    assert REVOKE_REASON_MAX_LENGTH + len("Agent : ") == column
