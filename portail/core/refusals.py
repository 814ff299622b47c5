"""One error type for refusals, and the one helper that shows it on the page.

A flow that refuses a change (a rule, a limit, a wrong code) raises `Refusal` or a subclass; its
`message` is the French sentence the person reads, `field` the form field it belongs to (if any).
Views never repeat try/except blocks per error class:

    with refusal_shown(request, form, success="Email d'invitation transmis") as attempt:
        flows.invite(...)
    if attempt.succeeded:
        return redirect(...)

A refusal is then on the form (its field, or the form as a whole), or, without a form, in the
page's messages; without one, the `success` message (if given) is. Anything else than a `Refusal` propagates (a bug is a 500, not a message).
"""

from types import TracebackType

from django import forms
from django.contrib import messages
from django.http import HttpRequest


class Refusal(Exception):  # noqa: N818 -- a refusal is not an error of the program
    """A rule refused the change; `message` is for the person (French)."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        self.message = message
        self.field = field
        super().__init__(message)


class refusal_shown:  # noqa: N801 -- used as a `with` statement, like contextlib's helpers
    """Context manager: swallow a `Refusal`, show it on `form` or in the messages."""

    def __init__(
        self, request: HttpRequest, form: forms.BaseForm | None = None, *, success: str = ""
    ) -> None:
        self.request = request
        self.form = form
        self.success = success
        self.refusal: Refusal | None = None

    @property
    def succeeded(self) -> bool:
        return self.refusal is None

    def __enter__(self) -> "refusal_shown":
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> bool:
        if exc is None and self.success:
            messages.success(self.request, self.success)
        if not isinstance(exc, Refusal):
            return False
        self.refusal = exc
        show_refusal(self.request, exc, self.form)
        return True


def show_refusal(
    request: HttpRequest, refusal: Refusal, form: forms.BaseForm | None = None
) -> None:
    """Put the refusal where the person will read it."""
    if form is None:
        messages.error(request, refusal.message)
        return
    field = refusal.field if refusal.field in form.fields else None
    form.add_error(field, refusal.message)
