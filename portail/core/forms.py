"""What every form of the portal shares: text over its bound is refused in French, never cut.

A `CharField` with a `max_length` would render `maxlength`, and the browser would silently cut
what is pasted or typed beyond it. The bound stays on the server, where its message says it.
"""

from collections.abc import Mapping

from django import forms

TOO_LONG = (
    "Ce texte doit comporter au plus %(limit_value)d caractères "
    "(vous en avez saisi %(show_value)d)."
)


def bound_text(fields: Mapping[str, forms.Field]) -> None:
    """Each bounded text field of a form (its own copies): no `maxlength`, the French message."""
    for field in fields.values():
        if isinstance(field, forms.CharField) and field.max_length is not None:
            field.error_messages["max_length"] = TOO_LONG
            field.widget.attrs.pop("maxlength", None)


class BoundedTextMixin:
    """For a form class: `bound_text` on its fields."""

    fields: dict[str, forms.Field]  # the form's

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        bound_text(self.fields)
