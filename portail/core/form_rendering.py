"""The DSFR form renderer, with its most used templates written in Python.

django-dsfr renders each field with a template (`input_snippet.html`) that renders the widget
(`text.html`, which includes `input.html`, which includes `attrs.html`) and its errors (two more
templates): five template renders per text field, a third of a light page's time. This renderer
produces the same bytes for those templates in Python and hands every other template to
django-dsfr's (the same cached templates). `tests/core/test_form_rendering.py` compares both,
byte for byte, on the portal's forms. FORM_RENDERER = "portail.core.form_rendering.FormRenderer".
"""

from collections.abc import Callable
from typing import Any

from django.utils.functional import Promise
from django.utils.html import conditional_escape, escape
from django.utils.safestring import SafeData, SafeString, mark_safe
from dsfr.forms import DsfrDjangoTemplates
from dsfr.templatetags.dsfr_tags import dsfr_mark_optionnal_fields
from dsfr.utils import dsfr_input_class_attr

FIELD_SNIPPET = "dsfr/form_field_snippets/input_snippet.html"
ERROR_LIST = "django/forms/errors/list/default.html"
# Django's widgets whose template is only `{% include "django/forms/widgets/input.html" %}`.
INPUT_WIDGETS = frozenset(
    f"django/forms/widgets/{name}.html"
    for name in ("text", "email", "password", "hidden", "number", "url", "tel", "date", "search")
)


class _UnsupportedError(Exception):
    """A value the Python version does not render like the template: the template renders it."""


def _text(value: Any) -> str:
    """`{{ value }}` under autoescape, for the values met here."""
    if isinstance(value, SafeData):
        return str(value)
    if isinstance(value, str | Promise | int | float) and not isinstance(value, bool):
        return escape(value)
    raise _UnsupportedError


def _formatted(value: Any) -> str:
    """`{{ value|stringformat:'s' }}` under autoescape."""
    if isinstance(value, SafeData):
        return str(value)
    if isinstance(value, str | Promise | int | float):
        return escape(str(value))  # what "%s" % value gives for these types
    raise _UnsupportedError


def _attrs(attrs: dict[str, Any]) -> str:
    """django/forms/widgets/attrs.html."""
    parts = []
    for name, value in attrs.items():
        if value is False:
            continue
        parts.append(
            f" {_text(name)}" if value is True else f' {_text(name)}="{_formatted(value)}"'
        )
    return "".join(parts)


def _input(context: dict[str, Any]) -> str:
    """django/forms/widgets/input.html, included by text.html and its siblings."""
    widget = context["widget"]
    value = widget["value"]
    shown = "" if value is None else f' value="{_formatted(value)}"'
    return (
        f'<input type="{_text(widget["type"])}" name="{_text(widget["name"])}"{shown}'
        f"{_attrs(widget['attrs'])}>\n\n"
    )


def _error_list(context: dict[str, Any]) -> str:
    """django/forms/errors/list/default.html, which includes DSFR's ul.html."""
    errors = context["errors"]
    if not errors:
        return "\n"
    items = "".join(
        f'\n      <li class="fr-error-text">\n        {_text(error)}\n      </li>\n    '
        for error in errors
    )
    return f'\n  <ul class="{_text(context["error_class"])}">\n    {items}\n  </ul>\n\n'


def _field(context: dict[str, Any]) -> str:
    """dsfr/form_field_snippets/input_snippet.html, in the template's order of evaluation."""
    field = context["field"]
    widget = field.field.widget
    group = getattr(widget, "group_class", "") or "fr-input-group"
    group_text = _text(group)
    errors = field.errors
    classes = group_text
    if errors:
        classes += f" {group_text}--error"
    if field.field.disabled:
        classes += " fr-input-group--disabled"
    id_for_label = _text(field.id_for_label)
    label = _text(field.label)
    mark = dsfr_mark_optionnal_fields(field)
    mark_text = mark if isinstance(mark, SafeData) else conditional_escape(mark)
    help_text = field.help_text
    hint = (
        f'\n      <span class="fr-hint-text" id="{id_for_label}_helptext">{help_text}</span>\n    '
        if help_text
        else ""
    )
    widget_html = conditional_escape(dsfr_input_class_attr(field))
    error_html = ""
    if errors:
        error_html = (
            f'\n    <div id="{_text(field.auto_id)}-desc-error">\n'
            f"      {conditional_escape(errors)}\n    </div>\n  "
        )
    return (
        f'\n\n<div class="{classes}">\n'
        f'  <label for="{id_for_label}" class="fr-label">\n'
        f"    \n    {label}{mark_text}\n    {hint}\n    \n  </label>\n"
        f"  {widget_html}\n  {error_html}\n</div>\n"
    )


RENDERERS: dict[str, Callable[[dict[str, Any]], str]] = {
    FIELD_SNIPPET: _field,
    ERROR_LIST: _error_list,
    **dict.fromkeys(INPUT_WIDGETS, _input),
    "django/forms/widgets/input.html": _input,
}


class FormRenderer(DsfrDjangoTemplates):  # type: ignore[misc]  # django-dsfr has no types
    """django-dsfr's renderer; a field, a text input and an error list rendered in Python."""

    def render(self, template_name: str, context: dict[str, Any], request: Any = None) -> str:
        render = RENDERERS.get(template_name)
        if render is not None and request is None:
            try:
                return SafeString(render(context).strip())
            except _UnsupportedError:
                pass
        return mark_safe(str(super().render(template_name, context, request)))  # noqa: S308
