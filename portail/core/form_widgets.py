"""Django's and django-dsfr's widget templates, written in Python (`form_rendering` uses them).

Each function returns what its template renders, byte for byte and unstripped (a template
included by another keeps its whitespace; the renderer strips what it returns, as Django's
does). A value none of them knows how to write raises `UnsupportedError`: the renderer then
hands the whole template to Django. `tests/core/test_form_rendering.py` compares both.
"""

import html
from typing import Any

from django.forms.models import ModelChoiceIteratorValue
from django.utils.functional import Promise
from django.utils.html import escape
from django.utils.safestring import SafeData


class UnsupportedError(Exception):
    """A value the Python version does not render like the template: the template renders it."""


def text(value: Any) -> str:
    """`{{ value }}` under autoescape, for the values met here (a float would be localized:
    the template writes it)."""
    if type(value) is str:
        # Django's escape() is html.escape behind a wrapper that looks for lazy arguments: a
        # page's fields call it about 90 times.
        return html.escape(value)
    if isinstance(value, SafeData):
        return str(value)
    if isinstance(value, str | Promise | int) and not isinstance(value, bool):
        return escape(value)
    raise UnsupportedError


def formatted(value: Any) -> str:
    """`{{ value|stringformat:'s' }}` under autoescape."""
    if isinstance(value, SafeData):
        return str(value)
    if isinstance(value, str | Promise | int | float | ModelChoiceIteratorValue):
        return html.escape(str(value))  # what "%s" % value gives; Django's escape() is this
    raise UnsupportedError


def attrs(values: dict[str, Any]) -> str:
    """django/forms/widgets/attrs.html."""
    parts = []
    for name, value in values.items():
        if value is False:
            continue
        parts.append(f" {text(name)}" if value is True else f' {text(name)}="{formatted(value)}"')
    return "".join(parts)


def input_tag(widget: dict[str, Any]) -> str:
    """django/forms/widgets/input.html."""
    value = widget["value"]
    shown = "" if value is None else f' value="{formatted(value)}"'
    return (
        f'<input type="{text(widget["type"])}" name="{text(widget["name"])}"{shown}'
        f"{attrs(widget['attrs'])}>\n"
    )


def input_widget(context: dict[str, Any]) -> str:
    """text.html, checkbox.html and their siblings: `{% include input.html %}` and a newline."""
    return input_tag(context["widget"]) + "\n"


def textarea(context: dict[str, Any]) -> str:
    """django/forms/widgets/textarea.html."""
    widget = context["widget"]
    value = text(widget["value"]) if widget["value"] else ""
    return f'<textarea name="{text(widget["name"])}"{attrs(widget["attrs"])}>\n{value}</textarea>\n'


SELECT_OPTION = "django/forms/widgets/select_option.html"


def select(context: dict[str, Any]) -> str:
    """django/forms/widgets/select.html with select_option.html."""
    widget = context["widget"]
    parts = [f'<select name="{text(widget["name"])}"{attrs(widget["attrs"])}>']
    for group_name, options, _ in widget["optgroups"]:
        if group_name:
            parts.append(f'\n  <optgroup label="{text(group_name)}">')
        for option in options:
            if option["template_name"] != SELECT_OPTION:
                raise UnsupportedError
            parts.append(
                f'\n  <option value="{formatted(option["value"])}"{attrs(option["attrs"])}>'
                f"{text(option['label'])}</option>\n"
            )
        if group_name:
            parts.append("\n  </optgroup>")
    parts.append("\n</select>\n")
    return "".join(parts)


def _option_label(widget: dict[str, Any]) -> str:
    """The `<label>` of django-dsfr's radio_option.html and checkbox_option.html (a plain label;
    a rich one, with `label.label`, goes to the template)."""
    if not widget["wrap_label"]:
        return ""
    label = widget["label"]
    if not isinstance(label, str | Promise | int) or isinstance(label, bool):
        raise UnsupportedError
    widget_id = widget["attrs"].get("id")
    label_for = f'for="{text(widget_id)}"' if widget_id else ""
    return (
        f'\n    <label class="fr-label"\n           {label_for}>\n      '
        f"\n        {text(label)}\n      \n    </label>\n  "
    )


def radio_option(context: dict[str, Any]) -> str:
    """django-dsfr's django/forms/widgets/radio_option.html."""
    widget = context["widget"]
    return (
        f'<div class="fr-radio-group">\n  {input_tag(widget)}\n  {_option_label(widget)}\n</div>\n'
    )


def checkbox_option(context: dict[str, Any]) -> str:
    """django-dsfr's django/forms/widgets/checkbox_option.html."""
    widget = context["widget"]
    dsfr = widget["attrs"].get("dsfr") == "dsfr"
    return (
        ('\n  <div class="fr-checkbox-group">\n  ' if dsfr else "")
        + f"\n  {input_tag(widget)}\n  {_option_label(widget)}\n  "
        + ("\n  </div>\n" if dsfr else "")
        + "\n"
    )


RADIO_OPTION = "django/forms/widgets/radio_option.html"
CHECKBOX_OPTION = "django/forms/widgets/checkbox_option.html"
OPTIONS = {RADIO_OPTION: radio_option, CHECKBOX_OPTION: checkbox_option}


def multiple_input(context: dict[str, Any]) -> str:
    """django-dsfr's django/forms/widgets/multiple_input.html (radio.html, checkbox_select.html):
    each option's template included, without Django's wrapping `<div>`s."""
    parts = ["\n  "]
    for _, options, _ in context["widget"]["optgroups"]:
        parts.append("\n    ")
        for option in options:
            render = OPTIONS.get(option["template_name"])
            if render is None:
                raise UnsupportedError
            parts.append(f"\n      {render({'widget': option})}\n    ")
        parts.append("\n  ")
    parts.append("\n\n")
    return "".join(parts)


def error_list(context: dict[str, Any]) -> str:
    """django/forms/errors/list/default.html, which includes DSFR's ul.html."""
    errors = context["errors"]
    if not errors:
        return "\n"
    items = "".join(
        f'\n      <li class="fr-error-text">\n        {text(error)}\n      </li>\n    '
        for error in errors
    )
    return f'\n  <ul class="{text(context["error_class"])}">\n    {items}\n  </ul>\n\n'


# Django's widgets whose template is only `{% include "django/forms/widgets/input.html" %}`.
INPUT_WIDGETS = frozenset(
    f"django/forms/widgets/{name}.html"
    for name in (
        "text",
        "email",
        "password",
        "hidden",
        "number",
        "url",
        "tel",
        "date",
        "search",
        "checkbox",
    )
)

WIDGETS = {
    **dict.fromkeys(INPUT_WIDGETS, input_widget),
    "django/forms/widgets/input.html": lambda context: input_tag(context["widget"]),
    "django/forms/widgets/textarea.html": textarea,
    "django/forms/widgets/select.html": select,
    "django/forms/widgets/radio.html": multiple_input,
    "django/forms/widgets/checkbox_select.html": multiple_input,
    RADIO_OPTION: radio_option,
    CHECKBOX_OPTION: checkbox_option,
    "django/forms/errors/list/default.html": error_list,
}
