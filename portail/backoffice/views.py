"""Placeholder, replaced by the back-office issue (#6)."""

from django.contrib.auth.decorators import login_not_required
from django.http import Http404


@login_not_required
def login(request):
    raise Http404
