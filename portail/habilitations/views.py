"""Placeholder, replaced by the habilitations issue (#5)."""

from django.http import Http404


def manage(request, code):
    raise Http404


def invitation(request, token):
    raise Http404
