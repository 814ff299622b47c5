"""Placeholder, replaced by the démarches issue (#4)."""

from django.shortcuts import render


def mes_demarches(request):
    return render(request, "accounts/home.html", {"title": "Mes démarches"})
