from django.urls import path

from portail.backoffice import views

app_name = "backoffice"

urlpatterns = [
    path("connexion/", views.login, name="login"),
    path("connexion/code/", views.otp, name="otp"),
    path("connexion/enrolement/", views.enrol, name="enrol"),
    path("", views.home, name="home"),
    path("centres/", views.centres, name="centres"),
    path("centres/export.csv", views.centres_csv, name="centres_csv"),
    path("centres/nouveau/", views.centre_create, name="centre_create"),
    path("centres/import/", views.centre_import, name="import"),
    path("centres/<int:pk>/", views.centre_detail, name="centre"),
    path("centres/<int:pk>/modifier/", views.centre_edit, name="centre_edit"),
    path("centres/<int:pk>/fermer/", views.centre_close, name="centre_close"),
    path("centres/<int:pk>/courrier/", views.centre_letter, name="centre_letter"),
    path("centres/<int:pk>/sites/", views.site_add, name="site_add"),
    path("centres/<int:pk>/sites/<int:site_pk>/retirer/", views.site_remove, name="site_remove"),
    path("courriers/", views.letters, name="letters"),
    path("courriers/lots/<int:pk>/synthese.csv", views.batch_csv, name="batch_csv"),
    path("suivi/", views.region_followup, name="followup"),
    path("suivi/regions.csv", views.regions_csv, name="regions_csv"),
    path("revues-des-acces/", views.late_reviews, name="late_reviews"),
    path("revues-des-acces/<str:code>/", views.late_reviews_region, name="late_reviews_region"),
    path(
        "revues-des-acces/<str:code>/export.csv",
        views.late_reviews_csv,
        name="late_reviews_csv",
    ),
    path("journal/", views.journal, name="journal"),
    path("journal/export.csv", views.journal_csv, name="journal_csv"),
    path("flux-habilitations/", views.webhooks, name="webhooks"),
    path("assistance/", views.support_search, name="support"),
    path("assistance/comptes/<uuid:public_id>/", views.support_account, name="support_account"),
    path(
        "assistance/comptes/<uuid:public_id>/activation/",
        views.support_resend_activation,
        name="support_resend",
    ),
    path(
        "assistance/comptes/<uuid:public_id>/attente/",
        views.support_lift_wait,
        name="support_lift",
    ),
    path(
        "assistance/comptes/<uuid:public_id>/habilitations/<int:habilitation_pk>/revoquer/",
        views.support_revoke,
        name="support_revoke",
    ),
    path(
        "assistance/comptes/<uuid:public_id>/double-authentification/reinitialiser/",
        views.support_reset_factors,
        name="support_reset_factors",
    ),
]
