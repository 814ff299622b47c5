"""The DSFR form renderer, with django-dsfr's field templates and Django's widgets in Python.

django-dsfr renders each field with a template (`input_snippet.html`, `radioselect_snippet.html`,
…) that renders the widget (`text.html`, which includes `input.html`, which includes
`attrs.html`; a radio button per choice, each with its own templates) and its errors (two more
templates): five template renders per text field, a dozen for three radio buttons, most of a
form page's time. This renderer produces the same bytes in Python (the widgets in
`form_widgets`) and hands every other template (a field's own template, a widget or a value it
does not know) to django-dsfr's. `tests/core/test_form_rendering.py` compares both, byte for
byte, on every field of the portal's forms and on each kind of field.
FORM_RENDERER = "portail.core.form_rendering.FormRenderer".
"""

from collections.abc import Callable
from typing import Any

from django.forms import BoundField
from django.utils.html import conditional_escape
from django.utils.safestring import SafeData, SafeString, mark_safe
from dsfr.forms import DsfrDjangoTemplates
from dsfr.templatetags.dsfr_tags import dsfr_mark_optionnal_fields
from dsfr.utils import dsfr_input_class_attr

from portail.core.form_widgets import WIDGETS, UnsupportedError, text

SNIPPETS = "dsfr/form_field_snippets/"


def _label(field: BoundField, help_id: str) -> str:
    """`{{ field.label }}{% dsfr_mark_optionnal_fields field %}` and the help text's span, as
    the snippets write them inside their `<label>` or `<legend>` (`help_id`: the id it is
    given, `field.id_for_label` or `field.auto_id` depending on the snippet)."""
    label = text(field.label)
    mark = dsfr_mark_optionnal_fields(field)
    mark_text = mark if isinstance(mark, SafeData) else conditional_escape(mark)
    help_text = field.help_text
    hint = (
        f'\n      <span class="fr-hint-text" id="{help_id}_helptext">{help_text}</span>\n    '
        if help_text
        else ""
    )
    return f"    \n    {label}{mark_text}\n    {hint}\n    \n"


def _errors(field: BoundField, div_class: str = "") -> str:
    """`{% if field.errors %}<div id="…-desc-error">{{ field.errors }}</div>{% endif %}`."""
    if not field.errors:
        return ""
    return (
        f'\n    <div{div_class} id="{text(field.auto_id)}-desc-error">\n'
        f"      {field.errors}\n    </div>\n  "
    )


def _input_field(context: dict[str, Any]) -> str:
    """input_snippet.html (text inputs, selects, text areas…), in the template's order of
    evaluation."""
    field = context["field"]
    group = getattr(field.field.widget, "group_class", "") or "fr-input-group"
    group_text = text(group)
    classes = group_text
    if field.errors:
        classes += f" {group_text}--error"
    if field.field.disabled:
        classes += " fr-input-group--disabled"
    id_for_label = text(field.id_for_label)
    label = _label(field, id_for_label)
    widget_html = conditional_escape(dsfr_input_class_attr(field))
    return (
        f'\n\n<div class="{classes}">\n'
        f'  <label for="{id_for_label}" class="fr-label">\n{label}  </label>\n'
        f"  {widget_html}\n  {_errors(field)}\n</div>\n"
    )


def _checkbox_field(context: dict[str, Any]) -> str:
    """checkbox_snippet.html: `{{ field|dsfr_input_class_attr|attr:"type:checkbox" }}` is the
    widget rendered with the input type "checkbox" (widget_tweaks sets it on the widget)."""
    field = context["field"]
    classes = "fr-checkbox-group"
    if field.errors:
        classes += " fr-checkbox-group--error"
    if field.field.disabled:
        classes += " fr-input-group--disabled"
    dsfr_input_class_attr(field)
    widget_html = ""
    if field:  # widget_tweaks' `silence_without_field` (which computes `subwidgets`)
        field.field.widget.input_type = "checkbox"
        widget_html = conditional_escape(field)
    label = _label(field, text(field.auto_id))
    return (
        f'\n<div class="{classes} fr-mb-2w">\n  {widget_html}\n'
        f'  <label for="{text(field.id_for_label)}" class="fr-label">\n{label}  </label>\n'
        f"  {_errors(field)}\n</div>\n"
    )


def _choices_field(field: BoundField, *, checkboxes: bool) -> str:
    """radioselect_snippet.html, or checkboxselectmultiple_snippet.html (`checkboxes`): a
    fieldset, its legend, a `<div>` per choice around `{{ subwidget }}`, the errors."""
    error = " fr-fieldset--error" if field.errors else ""
    auto_id = text(field.auto_id)
    if checkboxes:
        opening = f'class="fr-fieldset{error} fr-fieldsets"\n          id="checkboxes-{auto_id}"'
        error_id, errors_class = "messages", ""
    else:
        opening = f'class="fr-fieldset{error}"\n          id="radio-{auto_id}"'
        error_id, errors_class = "desc-error", ' class="fr-messages-group"'
    labelled_by = f"{auto_id}-legend" + (f" {auto_id}-{error_id}" if field.errors else "")
    legend = _label(field, auto_id)
    dsfr_input_class_attr(field)
    inline = " fr-fieldset__element--inline" if getattr(field.field.widget, "inline", "") else ""
    choices = "".join(
        f'\n      <div class="fr-fieldset__element{inline}">\n'
        f"        {subwidget}\n      </div>\n    "
        for subwidget in field.subwidgets
    )
    return (
        f'\n<fieldset {opening}\n          aria-labelledby="{labelled_by}">\n'
        f'  <legend class="fr-fieldset__legend fr-fieldset__legend--regular"\n'
        f'          id="{auto_id}-legend">\n{legend}  </legend>\n'
        f"  \n    {choices}\n  \n  {_errors(field, errors_class)}\n</fieldset>\n"
    )


RENDERERS: dict[str, Callable[[dict[str, Any]], str]] = {
    **WIDGETS,
    f"{SNIPPETS}input_snippet.html": _input_field,
    f"{SNIPPETS}checkbox_snippet.html": _checkbox_field,
    f"{SNIPPETS}radioselect_snippet.html": lambda c: _choices_field(c["field"], checkboxes=False),
    f"{SNIPPETS}checkboxselectmultiple_snippet.html": lambda c: _choices_field(
        c["field"], checkboxes=True
    ),
}


class FormRenderer(DsfrDjangoTemplates):  # type: ignore[misc]  # django-dsfr has no types
    """django-dsfr's renderer; its fields, Django's widgets and error lists rendered in Python."""

    def render(self, template_name: str, context: dict[str, Any], request: Any = None) -> str:
        render = RENDERERS.get(template_name)
        if render is not None and request is None:
            try:
                return SafeString(render(context).strip())
            except UnsupportedError:
                pass
        return mark_safe(str(super().render(template_name, context, request)))  # noqa: S308
