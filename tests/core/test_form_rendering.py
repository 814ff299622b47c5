"""The Python renderer of form fields writes the same bytes as django-dsfr's templates."""

import inspect
from collections.abc import Iterator
from contextlib import contextmanager
from unittest import mock

import pytest
from django import forms
from dsfr.forms import DsfrBaseForm, DsfrDjangoTemplates

from portail.accounts import forms as account_forms
from portail.accounts import mfa_forms
from portail.backoffice import forms as backoffice_forms
from portail.companies import forms as company_forms
from portail.core.form_rendering import FormRenderer
from portail.demarches.models import Role
from portail.habilitations import forms as habilitation_forms
from portail.habilitations import mes_demarches_forms
from tests.factories import DemarcheFactory, RoleFactory

pytestmark = pytest.mark.django_db

MODULES = [
    account_forms,
    mfa_forms,
    backoffice_forms,
    company_forms,
    habilitation_forms,
    mes_demarches_forms,
]


def portal_forms() -> list[type[forms.Form]]:
    found = {
        cls
        for module in MODULES
        for _, cls in inspect.getmembers(module, inspect.isclass)
        if issubclass(cls, DsfrBaseForm) and cls.__module__ == module.__name__
    }
    return sorted(found, key=lambda cls: cls.__qualname__)


def instances(cls: type[forms.Form]) -> list[forms.Form]:
    """The form unbound and bound to nothing (every required field in error), when it can be
    made without arguments of its own; else none (counted below)."""
    made = []
    for data in (None, {"unknown": "<b>x</b>"}):
        try:
            made.append(cls(data) if data is not None else cls())
        except TypeError:
            return []
    return made


def rendered(form: forms.Form, renderer) -> list[str]:
    form.renderer = renderer
    out = []
    for field in form:
        field.renderer = renderer
        out.append(str(field.as_field_group()))
        out.append(str(field))
        out.append(str(field.errors))
    return out


@contextmanager
def templates_sent() -> Iterator[list[str]]:
    """The names of the templates the Python renderer hands to django-dsfr's, meanwhile."""
    sent: list[str] = []
    original = DsfrDjangoTemplates.render

    def render(self, template_name, context, request=None):
        sent.append(template_name)
        return original(self, template_name, context, request)

    with mock.patch.object(DsfrDjangoTemplates, "render", render):
        yield sent


def test_the_python_renderer_is_the_settings_renderer(settings):
    assert settings.FORM_RENDERER == "portail.core.form_rendering.FormRenderer"
    assert isinstance(account_forms.LoginForm().renderer, FormRenderer)


def test_every_field_of_the_portal_forms_renders_the_same_bytes():
    compared = 0
    for cls in portal_forms():
        for form in instances(cls):
            expected = rendered(cls(form.data) if form.is_bound else cls(), DsfrDjangoTemplates())
            actual = rendered(form, FormRenderer())
            assert actual == expected, cls.__qualname__
            compared += len(actual)
    # The login, sign-up, profile, password, activation and invitation forms among them (162
    # renders when this was written), bound and unbound.
    assert compared >= 150


@pytest.mark.parametrize(
    "field",
    [
        forms.CharField(label="Nom <b>", help_text="Une <em>aide</em>"),
        forms.CharField(required=False, disabled=True, initial="déjà « là » & <ici>"),
        forms.EmailField(
            widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True})
        ),
        forms.CharField(widget=forms.PasswordInput(attrs={"spellcheck": False, "minlength": 12})),
        forms.IntegerField(min_value=1),
        forms.CharField(widget=forms.HiddenInput),
        forms.ChoiceField(choices=[("a", "A")]),
        forms.BooleanField(),
        forms.CharField(widget=forms.Textarea),
        # Every other kind the renderer writes in Python: selects (with groups), radio buttons,
        # a checkbox, checkboxes; required or not, disabled, with a help text, in error.
        forms.ChoiceField(
            choices=[("", "Choisissez"), ("a", "A & <b>"), ("Groupe <g>", [("g", "G")])],
            help_text="Une <em>aide</em>",
            required=False,
        ),
        forms.ChoiceField(choices=[("a", "A"), ("b", "B")], disabled=True, initial="b"),
        forms.MultipleChoiceField(choices=[("a", "A"), ("b", "B")]),
        forms.ChoiceField(
            label="Civilité <x>",
            choices=[("a", "Madame « A »"), ("valeur \" ' <x>", "B")],
            widget=forms.RadioSelect,
            help_text="Une <em>aide</em>",
        ),
        forms.ChoiceField(choices=[("a", "A")], widget=forms.RadioSelect, required=False),
        forms.ChoiceField(
            choices=[(1, "Un"), (2, "Deux")], widget=forms.RadioSelect, disabled=True
        ),
        forms.BooleanField(required=False, help_text="Une <em>aide</em>", label="J'accepte"),
        forms.BooleanField(disabled=True, initial=True),
        forms.MultipleChoiceField(
            choices=[("a", "A"), ("valeur \" ' <x>", "B <b>")],
            widget=forms.CheckboxSelectMultiple,
            help_text="Une <em>aide</em>",
        ),
        forms.MultipleChoiceField(
            choices=[("a", "A")], widget=forms.CheckboxSelectMultiple, required=False
        ),
        forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=9),
    ],
)
@pytest.mark.parametrize("data", [None, {"f": "valeur \" ' <x>"}, {}])
def test_field_kinds_render_the_same_bytes(field, data):
    class One(account_forms.Form):
        f = field

    def make():
        return One(data) if data is not None else One(initial={"f": "init<>"})

    expected = rendered(make(), DsfrDjangoTemplates())
    with templates_sent() as sent:
        assert rendered(make(), FormRenderer()) == expected
    assert sent == []  # all of it written in Python


def test_a_model_choice_as_radio_buttons_and_as_a_select_renders_the_same_bytes():
    demarche = DemarcheFactory()
    RoleFactory(demarche=demarche, label="Gestionnaire <g>")
    RoleFactory(demarche=demarche, label="Utilisateur « u »")

    class One(account_forms.Form):
        radio = forms.ModelChoiceField(queryset=Role.objects.all(), widget=forms.RadioSelect)
        select = forms.ModelChoiceField(queryset=Role.objects.all(), empty_label="Choisissez")

    for data in (None, {"radio": "x"}, {"radio": str(Role.objects.first().pk), "select": "x"}):
        assert rendered(One(data), FormRenderer()) == rendered(One(data), DsfrDjangoTemplates())


def test_the_portal_forms_render_without_a_template():
    """Every field of the portal's forms is written in Python: none goes to a template."""
    with templates_sent() as sent:
        for cls in portal_forms():
            for form in instances(cls):
                rendered(form, FormRenderer())
    assert sent == []


def test_a_value_the_python_renderer_does_not_know_goes_to_the_template():
    class One(account_forms.Form):
        f = forms.CharField(widget=forms.TextInput(attrs={"data-x": ("a", "b")}))

    assert rendered(One(), FormRenderer()) == rendered(One(), DsfrDjangoTemplates())
    assert "data-x" in rendered(One(), FormRenderer())[1]
