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


class _FieldsShared(dict[str, forms.Field]):
    """The fields every unbound form of a class shares: Django's deep copy of them is a new
    dictionary of the same fields."""

    def __deepcopy__(self, memo: dict[int, object]) -> dict[str, forms.Field]:
        return dict(self)


class SharedUnboundFields:
    """For a form class shown unbound to many (the login form): its fields built once per
    process and shared by its unbound instances.

    Django deep-copies a form's fields for each instance, then django-dsfr's classes, `bound_text`
    and the form's own `__init__` change each copy the same way: for an unbound form that is the
    same work every time. An unbound form's rendering changes none of its fields (only an error
    does: `aria-invalid`), so its instances share the first one's fields (each its own dictionary
    of them); a bound form gets its own copies, as Django makes them."""

    base_fields: dict[str, forms.Field]
    fields: dict[str, forms.Field]
    _unbound_fields: dict[str, forms.Field] | None = None

    def __init__(self, data: object = None, files: object = None, *args: object, **kwargs: object):
        shared = data is None and files is None
        cls = type(self)
        if shared and cls._unbound_fields is not None:
            self.base_fields = _FieldsShared(cls._unbound_fields)
        super().__init__(data, files, *args, **kwargs)  # type: ignore[call-arg]  # the form's
        if shared and cls._unbound_fields is None:
            cls._unbound_fields = self.fields
