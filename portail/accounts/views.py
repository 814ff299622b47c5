"""Placeholder views, replaced by the accounts issue (#3)."""

from django.contrib.auth import logout
from django.contrib.auth.decorators import login_not_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST


@login_not_required
def home(request):
    return render(request, "accounts/home.html", {"title": "Accueil"})


@login_not_required
def login_view(request):
    return redirect("home")


@require_POST
def logout_view(request):
    logout(request)
    return redirect("home")


@login_not_required
def signup(request):
    return render(request, "accounts/home.html", {"title": "Créer votre compte"})


def account(request):
    return render(request, "accounts/home.html", {"title": "Mon compte"})


@login_not_required
def agent_entry(request):
    return redirect("backoffice:login")
