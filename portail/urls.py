from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from portail.accounts import views as accounts_views

urlpatterns = [
    # First: the démarches' machines call the provider's endpoints far more often than people
    # open pages (every refresh), and each pattern tried before costs a match.
    path("", include("portail.oidc.urls")),
    path("", include("portail.core.urls")),
    path("", include("portail.metrics.urls")),
    path("", accounts_views.home, name="home"),
    path("", include("portail.accounts.urls")),
    path("entreprises/", include("portail.companies.urls")),
    # "Mes démarches" and the ways into a démarche: habilitations' pages under /demarches/.
    path("demarches/", include("portail.habilitations.mes_demarches_urls")),
    path("habilitations/", include("portail.habilitations.urls")),
    path("agents/", include("portail.backoffice.urls")),
    path("admin/", admin.site.urls),
]

handler400 = "portail.core.views.bad_request"
handler403 = "portail.core.views.permission_denied"
handler404 = "portail.core.views.page_not_found"
handler500 = "portail.core.views.server_error"

if settings.DEBUG:
    from django.views.generic.base import TemplateView

    urlpatterns += [path("__500__/", TemplateView.as_view(template_name="missing.html"))]
