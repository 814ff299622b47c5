import pytest
from django import forms

from portail.companies.forms import SiretField

pytestmark = pytest.mark.django_db


class SiretForm(forms.Form):
    siret = SiretField()


@pytest.mark.parametrize(
    ("value", "error"),
    [
        ("", "Saisissez le numéro SIRET."),
        ("903 100 006", "Le numéro SIRET doit comporter 14 chiffres."),
        ("903 100 006 00018", "Ce numéro SIRET n'est pas valide."),
    ],
)
def test_bad_sirets(value, error):
    form = SiretForm(data={"siret": value})
    assert not form.is_valid()
    assert form.errors["siret"] == [error]


def test_a_spaced_siret_is_cleaned():
    form = SiretForm(data={"siret": " 903 100 006 00019 "})
    assert form.is_valid()
    assert form.cleaned_data["siret"] == "90310000600019"
    assert 'inputmode="numeric"' in str(form["siret"])
