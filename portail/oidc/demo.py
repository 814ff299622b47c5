"""Demo data: CERES registered as a client with fixed credentials (ceres/settings/dev.py has them).

These credentials exist only for the local demo; a real démarche gets its own from
`manage.py register_demarche_client`.
"""

from django.core.management.base import OutputWrapper
from oauth2_provider.models import get_application_model

from portail.demarches.models import Demarche
from portail.oidc.clients import register_demarche_client
from portail.oidc.webhooks import subscribe

Application = get_application_model()

CERES_CODE = "ceres"
CERES_URL = "http://127.0.0.1:8001/"
CERES_DEMO_CLIENT_ID = "ceres-demo"
CERES_DEMO_CLIENT_SECRET = (
    "ceres-demo-secret-for-local-use-only-0123456789abcdefghijklmnopqrstuvwxyz"  # noqa: S105
)
CERES_REDIRECT_URIS = ["http://127.0.0.1:8001/oidc/callback/"]
CERES_POST_LOGOUT_URIS = ["http://127.0.0.1:8001/deconnexion/terminee/"]
CERES_WEBHOOK_URL = "http://127.0.0.1:8001/portail/evenements/"


def load(stdout: OutputWrapper | None = None) -> list[str]:
    demarche = Demarche.objects.filter(code=CERES_CODE).first()
    if demarche is None:
        return ["  CERES : démarche absente du catalogue, client OpenID Connect non créé."]
    if not Application.objects.filter(client_id=CERES_DEMO_CLIENT_ID).exists():
        register_demarche_client(
            actor=None,
            demarche=demarche,
            redirect_uris=CERES_REDIRECT_URIS,
            post_logout_redirect_uris=CERES_POST_LOGOUT_URIS,
            client_id=CERES_DEMO_CLIENT_ID,
            client_secret=CERES_DEMO_CLIENT_SECRET,
            replace=True,
            webhook_url=CERES_WEBHOOK_URL,
        )
    subscribe(demarche, CERES_WEBHOOK_URL)  # demo databases made before the feed existed
    Demarche.objects.filter(pk=demarche.pk).update(
        url=CERES_URL, oidc_client_id=CERES_DEMO_CLIENT_ID
    )
    return [f"  CERES (client OpenID Connect « {CERES_DEMO_CLIENT_ID} ») : {CERES_URL}"]
