import html
import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from portail.audit.models import AuditEvent
from portail.centres.models import Centre, LinkedSite, Region
from portail.core.refusals import Refusal
from portail.demarches.models import Demarche
from portail.habilitations import access_requests, admission
from portail.habilitations.models import AccessRequest, Habilitation
from portail.notifications.models import OutboxEmail
from tests.factories import EstablishmentFactory, HabilitationFactory, UserFactory, make_siret
from tests.habilitations.factories import gestionnaire_of

pytestmark = pytest.mark.django_db
URL = reverse("demarches:request_access", args=["ceres"])


def text(response) -> str:
    return html.unescape(response.content.decode())


def centre_agree(ceres):
    return ceres.roles.get(code="centre-agree")


def ask(client, siret, role, message=""):
    return client.post(URL, {"siret": siret, "role": role.pk if role else "", "message": message})


@pytest.fixture
def centre(ceres):
    establishment = EstablishmentFactory()
    return establishment, gestionnaire_of(ceres, establishment)


def test_request_emails_the_gestionnaires(client, ceres, centre):
    establishment, manager = centre
    colleague = gestionnaire_of(
        ceres,
        EstablishmentFactory(siren=establishment.siren, siret=make_siret(establishment.siren, 7)),
    )
    stranger = gestionnaire_of(ceres, EstablishmentFactory())
    requester = UserFactory()
    client.force_login(requester)

    response = ask(client, establishment.siret, centre_agree(ceres), "Je suis formateur.")

    assert response.status_code == 302
    access_request = AccessRequest.objects.get()
    assert access_request.requester == requester
    assert access_request.status == AccessRequest.Status.PENDING
    assert access_request.message == "Je suis formateur."
    assert abs(access_request.expires_at - timezone.now() - timedelta(days=30)) < timedelta(
        minutes=1
    )
    recipients = set(OutboxEmail.objects.values_list("recipient", flat=True))
    assert recipients == {manager.email, colleague.email}
    assert stranger.email not in recipients
    email = OutboxEmail.objects.get(recipient=manager.email)
    assert requester.email in email.body_text
    assert "Je suis formateur." in email.body_text
    assert reverse("habilitations:manage", args=["ceres"]) in email.body_text
    assert AuditEvent.objects.filter(action="access_request.created").count() == 1
    page = text(client.get(reverse("demarches:mes_demarches")))
    assert "Votre demande d'accès a été transmise" in page
    assert "Vos demandes d'accès en attente" in page


def test_gestionnaires_of_a_centre_covering_a_linked_site_are_asked(client, ceres):
    head = EstablishmentFactory()
    manager = gestionnaire_of(ceres, head)
    site = EstablishmentFactory()  # another company's establishment, a site lié of the centre
    client.force_login(UserFactory())
    # without the link nobody manages the site
    assert ask(client, site.siret, centre_agree(ceres)).context["no_gestionnaire"]
    region = Region.objects.create(code="XX", name="Région de test")
    centre = Centre.objects.create(
        establishment=head, region=region, letter_name=head.name, letter_address=head.address
    )
    LinkedSite.objects.create(centre=centre, establishment=site)
    assert ask(client, site.siret, centre_agree(ceres)).status_code == 302
    assert OutboxEmail.objects.filter(recipient=manager.email).count() == 1


def test_nobody_manages_the_establishment_yet(client, ceres):
    establishment = EstablishmentFactory()
    # a plain holder is not a gestionnaire
    HabilitationFactory(role=centre_agree(ceres), establishment=establishment)
    client.force_login(UserFactory())
    response = ask(client, establishment.siret, centre_agree(ceres))
    assert response.status_code == 200
    page = text(response)
    assert "Aucun gestionnaire ne peut encore traiter" in page
    assert "01 46 29 25 54" in page  # the démarche's assistance
    assert not AccessRequest.objects.exists()
    assert not OutboxEmail.objects.exists()


def test_duplicate_pending_requests_are_refused(client, ceres, centre):
    establishment, _ = centre
    client.force_login(UserFactory())
    assert ask(client, establishment.siret, centre_agree(ceres)).status_code == 302
    response = ask(client, establishment.siret, centre_agree(ceres))
    assert response.status_code == 200
    assert access_requests.DUPLICATE_REQUEST in text(response)
    assert AccessRequest.objects.count() == 1


def test_an_expired_request_no_longer_blocks_a_new_one(client, ceres, centre):
    establishment, _ = centre
    user = UserFactory()
    client.force_login(user)
    ask(client, establishment.siret, centre_agree(ceres))
    AccessRequest.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert not AccessRequest.objects.pending().exists()
    assert ask(client, establishment.siret, centre_agree(ceres)).status_code == 302
    assert set(AccessRequest.objects.values_list("status", flat=True)) == {"pending", "expired"}


def test_already_holding_the_role(client, ceres, centre):
    establishment, manager = centre
    client.force_login(manager)
    role = ceres.roles.get(code="gestionnaire-centres")
    response = ask(client, establishment.siret, role)
    assert access_requests.ALREADY_HELD in text(response)


@pytest.mark.parametrize(
    ("siret", "role", "field", "message"),
    [
        ("", "ok", "siret", "Saisissez le numéro SIRET (14 chiffres)."),
        ("123", "ok", "siret", "Le numéro SIRET doit comporter 14 chiffres."),
        ("12345678901234", "ok", "siret", "Ce numéro SIRET n'est pas valide."),
        (None, "", "role", "Choisissez le rôle que vous souhaitez."),
        (None, "other", "role", "Choisissez un rôle de la liste."),
    ],
)
def test_bad_inputs(client, ceres, centre, siret, role, field, message):  # noqa: PLR0917
    establishment, _ = centre
    other_role = Demarche.objects.get(code="mon-activite-formation").roles.first()
    client.force_login(UserFactory())
    data = {
        "siret": establishment.siret if siret is None else siret,
        "role": {"ok": centre_agree(ceres).pk, "other": other_role.pk, "": ""}[role],
        "message": "Bonjour",
    }
    response = client.post(URL, data)
    assert response.status_code == 200
    assert message in response.context["form"].errors[field][0]
    assert "Bonjour" in text(response)  # kept filled
    assert not AccessRequest.objects.exists()


def test_too_long_message(client, ceres, centre):
    establishment, _ = centre
    client.force_login(UserFactory())
    response = ask(client, establishment.siret, centre_agree(ceres), "x" * 1001)
    assert "1000 caractères" in response.context["form"].errors["message"][0]


def test_closed_establishment(client, ceres):
    establishment = EstablishmentFactory(closed=True)
    gestionnaire_of(ceres, establishment)
    client.force_login(UserFactory())
    response = ask(client, establishment.siret, centre_agree(ceres))
    assert admission.CLOSED in text(response)
    assert not AccessRequest.objects.exists()


def test_requests_are_rate_limited(limits_store, ceres):
    user = UserFactory()
    role = centre_agree(ceres)
    for _ in range(10):
        with pytest.raises(access_requests.NoGestionnaireError):
            access_requests.request_access(
                user=user, demarche=ceres, siret=EstablishmentFactory().siret, role=role
            )
    with pytest.raises(Refusal, match="trop de demandes"):
        access_requests.request_access(
            user=user, demarche=ceres, siret=EstablishmentFactory().siret, role=role
        )


def test_particulier_and_anonymous(client, ceres, centre):
    establishment, _ = centre
    client.force_login(UserFactory(particulier=True))
    for response in (client.get(URL), ask(client, establishment.siret, centre_agree(ceres))):
        assert response.status_code == 403
        assert "réservée aux comptes professionnels" in text(response)
    assert not AccessRequest.objects.exists()
    client.logout()
    response = ask(client, establishment.siret, centre_agree(ceres))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


# --- decisions ------------------------------------------------------------------------------


@pytest.fixture
def pending(ceres, centre):
    establishment, manager = centre
    requester = UserFactory()
    access_request = access_requests.request_access(
        user=requester,
        demarche=ceres,
        siret=establishment.siret,
        role=centre_agree(ceres),
        message="Merci",
    )
    OutboxEmail.objects.all().delete()
    return access_request, manager


def accept_url(access_request):
    return reverse("demarches:access_request_accept", args=[access_request.pk])


def refuse_url(access_request):
    return reverse("demarches:access_request_refuse", args=[access_request.pk])


def test_accept_grants_the_role_and_tells_the_requester(client, ceres, pending):
    access_request, manager = pending
    client.force_login(manager)
    response = client.post(accept_url(access_request))
    assert response.status_code == 302
    assert response["Location"] == reverse("habilitations:manage", args=["ceres"])
    habilitation = Habilitation.objects.active().get(user=access_request.requester)
    assert habilitation.role == centre_agree(ceres)
    assert habilitation.origin == Habilitation.Origin.ACCESS_REQUEST
    assert habilitation.granted_by == manager
    access_request.refresh_from_db()
    assert access_request.status == AccessRequest.Status.ACCEPTED
    assert access_request.decided_by == manager
    email = OutboxEmail.objects.get(recipient=access_request.requester.email)
    assert "acceptée" in email.subject
    assert AuditEvent.objects.filter(action="access_request.accepted").count() == 1


def test_accept_with_another_role(client, ceres, pending):
    access_request, manager = pending
    client.force_login(manager)
    manager_role = ceres.roles.get(code="gestionnaire-centres")
    client.post(accept_url(access_request), {"role": manager_role.pk})
    habilitation = Habilitation.objects.active().get(user=access_request.requester)
    assert habilitation.role == manager_role
    access_request.refresh_from_db()
    assert access_request.granted_role == manager_role


def test_accept_refuses_a_role_of_another_demarche(client, ceres, pending):
    access_request, manager = pending
    client.force_login(manager)
    other = Demarche.objects.get(code="mon-activite-formation").roles.first()
    client.post(accept_url(access_request), {"role": other.pk})
    assert not Habilitation.objects.filter(user=access_request.requester).exists()
    access_request.refresh_from_db()
    assert access_request.status == AccessRequest.Status.PENDING


def test_refuse_with_a_reason(client, ceres, pending):
    access_request, manager = pending
    client.force_login(manager)
    response = client.post(refuse_url(access_request), {"reason": "Inconnu du centre"})
    assert response.status_code == 302
    access_request.refresh_from_db()
    assert access_request.status == AccessRequest.Status.REFUSED
    assert access_request.decision_reason == "Inconnu du centre"
    assert not Habilitation.objects.filter(user=access_request.requester).exists()
    email = OutboxEmail.objects.get(recipient=access_request.requester.email)
    assert "refusée" in email.subject
    assert "Inconnu du centre" in email.body_text


def test_a_decided_request_cannot_be_decided_again(client, ceres, pending):
    access_request, manager = pending
    client.force_login(manager)
    client.post(refuse_url(access_request))
    client.post(accept_url(access_request))
    assert not Habilitation.objects.filter(user=access_request.requester).exists()
    page = text(client.get(reverse("demarches:mes_demarches")))
    assert access_requests.REQUEST_NOT_PENDING in page


def test_an_expired_request_cannot_be_accepted(client, ceres, pending):
    access_request, manager = pending
    AccessRequest.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    client.force_login(manager)
    client.post(accept_url(access_request))
    assert not Habilitation.objects.filter(user=access_request.requester).exists()
    assert access_requests.expire_access_requests() == 1


@pytest.mark.parametrize(
    "who", ["anonymous", "particulier", "other_company", "plain_holder", "requester"]
)
def test_only_the_establishments_gestionnaires_decide(client, ceres, pending, who):
    access_request, _ = pending
    establishment = access_request.establishment
    if who != "anonymous":
        user = {
            "particulier": lambda: UserFactory(particulier=True),
            "other_company": lambda: gestionnaire_of(ceres, EstablishmentFactory()),
            "plain_holder": lambda: (
                Habilitation.objects.create(
                    user=UserFactory(),
                    demarche=ceres,
                    role=centre_agree(ceres),
                    establishment=establishment,
                    origin=Habilitation.Origin.AGENT,
                ).user
            ),
            "requester": lambda: access_request.requester,
        }[who]()
        client.force_login(user)
    for url in (accept_url(access_request), refuse_url(access_request)):
        response = client.post(url)
        if who == "anonymous":
            assert response.status_code == 302
            assert response["Location"].startswith(reverse("accounts:login"))
        else:
            assert response.status_code == 404
    access_request.refresh_from_db()
    assert access_request.status == AccessRequest.Status.PENDING
    assert not OutboxEmail.objects.exists()


def test_decisions_are_post_only_and_need_csrf(ceres, pending):
    access_request, manager = pending
    client = Client(enforce_csrf_checks=True)
    client.force_login(manager)
    assert client.get(accept_url(access_request)).status_code == 405
    assert client.post(accept_url(access_request)).status_code == 403
    assert client.post(refuse_url(access_request)).status_code == 403
    access_request.refresh_from_db()
    assert access_request.status == AccessRequest.Status.PENDING


def test_unknown_request_is_404(client, ceres, centre):
    _, manager = centre
    client.force_login(manager)
    assert client.post(reverse("demarches:access_request_accept", args=[999999])).status_code == 404


def test_back_to_a_local_next_only(client, ceres, pending):
    access_request, manager = pending
    client.force_login(manager)
    response = client.post(refuse_url(access_request), {"next": "https://evil.example/"})
    assert response["Location"] == reverse("habilitations:manage", args=["ceres"])
    other = access_requests.request_access(
        user=UserFactory(),
        demarche=ceres,
        siret=access_request.establishment.siret,
        role=centre_agree(ceres),
    )
    local = reverse("habilitations:manage", args=["ceres"]) + "?tab=demandes"
    response = client.post(accept_url(other), {"next": local})
    assert response["Location"] == local


def test_the_role_radios_are_drawn_and_listed_in_the_error_summary(client, ceres, centre):
    """DSFR draws a radio only when its label follows the input; a refused form lists its fields."""
    establishment, _ = centre
    client.force_login(UserFactory())
    role = centre_agree(ceres)

    page = text(ask(client, establishment.siret, None))

    assert re.search(
        rf'<input type="radio" name="role" value="{role.pk}" id="(id_role_\d)"[^>]*'
        r'aria-describedby="role-errors">\s*<label class="fr-label" for="\1">Centre agréé',
        page,
    )
    assert "<title>Erreur : " in page
    summary = page[page.index('id="error-summary"') :]
    assert '<a href="#id_role_0">Rôle souhaité</a>' in summary[: summary.index("</div>")]

    page = text(client.get(URL))
    assert "error-summary" not in page
    assert "<title>Erreur" not in page
