"""The second-factor pages, in the accounts namespace (portail.accounts.urls adds them)."""

from django.urls import path, re_path

from portail.accounts import mfa_views, passkey_views

urlpatterns = [
    path("connexion/verification/", mfa_views.second_step, name="second_step"),
    path("connexion/cle-d-acces/", passkey_views.passwordless, name="passkey_login"),
    path("mon-compte/verification/", mfa_views.step_up, name="step_up"),
    path("mon-compte/double-authentification/", mfa_views.factors, name="mfa"),
    path(
        "mon-compte/double-authentification/application/", mfa_views.totp_add, name="mfa_totp_add"
    ),
    path(
        "mon-compte/double-authentification/codes-de-secours/",
        mfa_views.recovery_codes,
        name="mfa_recovery_codes",
    ),
    path(
        "mon-compte/double-authentification/cle-d-acces/",
        passkey_views.register,
        name="passkey_register",
    ),
    path("cle-d-acces/<slug:purpose>/options/", passkey_views.options, name="passkey_options"),
    path("cle-d-acces/<slug:purpose>/", passkey_views.check, name="passkey_check"),
    re_path(
        r"^mon-compte/double-authentification/(?P<kind>totp|passkey)/(?P<pk>[0-9]+)/supprimer/$",
        mfa_views.remove,
        name="mfa_remove",
    ),
]
