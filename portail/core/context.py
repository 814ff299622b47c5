"""Where an action comes from: the value flows receive instead of the HTTP request.

A flow takes `actor` (the user who acts, or None for the system) and `context` (this value): the
same flow then runs from a view, a management command, the worker or a test. Views build it with
`context_of(request)`; everything else passes `SYSTEM` (or nothing: flows default to it).
"""

from dataclasses import dataclass

from django.http import HttpRequest

from portail.core.client_ip import client_ip
from portail.core.logging import request_id_var


@dataclass(frozen=True, slots=True)
class Context:
    """The origin of an action, as the journal records it (never a secret)."""

    ip: str | None = None
    request_id: str = ""
    user_agent: str = ""


SYSTEM = Context()

_ATTRIBUTE = "_portail_context"


def context_of(request: HttpRequest) -> Context:
    """The request's context, built once and kept on the request."""
    context: Context | None = getattr(request, _ATTRIBUTE, None)
    if context is None:
        request_id = request_id_var.get()
        context = Context(
            ip=client_ip(request) or None,
            request_id="" if request_id == "-" else request_id,
            user_agent=request.headers.get("User-Agent", "")[:512],
        )
        setattr(request, _ATTRIBUTE, context)
    return context
