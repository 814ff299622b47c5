"""Demo data: CERES registered as a client with fixed credentials (ceres/settings/dev.py has them).

These credentials exist only for the local demo; a real démarche gets its own from
`manage.py register_demarche_client`.
"""

from django.core.management.base import OutputWrapper
from oauth2_provider.models import get_application_model

from portail.demarches.models import Demarche
from portail.oidc import backchannel
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
CERES_BACKCHANNEL_LOGOUT_URI = "http://127.0.0.1:8001/portail/deconnexion/"


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
            backchannel_logout_uri=CERES_BACKCHANNEL_LOGOUT_URI,
        )
    # Demo databases made before the feed or the back-channel logout existed.
    subscribe(demarche, CERES_WEBHOOK_URL)
    application = Application.objects.filter(client_id=CERES_DEMO_CLIENT_ID).first()
    if application is not None:
        backchannel.set_endpoint(application, CERES_BACKCHANNEL_LOGOUT_URI)
    Demarche.objects.filter(pk=demarche.pk).update(
        url=CERES_URL, oidc_client_id=CERES_DEMO_CLIENT_ID
    )
    return [f"  CERES (client OpenID Connect « {CERES_DEMO_CLIENT_ID} ») : {CERES_URL}"]
