"""Every view × every kind of user: only the gestionnaire of the company sees and acts.

A gestionnaire of another company has their own page (same URL, their own people): they must
never see ours, and our objects are 404 for them.
"""

import pytest
from django.urls import reverse

from portail.habilitations import flows
from portail.habilitations.models import Habilitation, Invitation
from portail.notifications.models import OutboxEmail

pytestmark = pytest.mark.django_db

KINDS = [
    "anonymous",
    "particulier",
    "professional",
    "centre_user",
    "foreign_gestionnaire",
    "other_demarche_gestionnaire",
    "gestionnaire",
]
OUR_SECRETS = ["claire.centre@cfi.fr", "Claire", "dominique.demandeur@cfi.fr", "CFI ATLANTIQUE"]


@pytest.fixture
def setup(world, client):
    sent = flows.invite(
        actor=world.gestionnaire,
        demarche=world.demarche,
        role=world.centre_role,
        establishment=world.head,
        invited_user=world.colleague,
    )
    centre = Habilitation.objects.get(user=world.centre_user)
    return world, sent, centre


def login(client, world, kind):
    if kind != "anonymous":
        client.force_login(getattr(world, kind))


def secrets_for(world, kind):
    """Our company's data, minus what the header shows of the logged-in person themselves."""
    own = getattr(world, kind) if kind != "anonymous" else None
    return [s for s in OUR_SECRETS if own is None or s not in (own.first_name, own.email)]


def view_cases(world, sent, centre):
    code = world.demarche.code
    return {
        "manage": ("get", reverse("habilitations:manage", args=[code]), {}),
        "invite_form": ("get", reverse("habilitations:invite", args=[code]), {}),
        "invite_post": (
            "post",
            reverse("habilitations:invite", args=[code]),
            {
                "email": "nouveau@cfi.fr",
                "role": world.centre_role.pk,
                "establishment": world.head.siret,
                "action": "continue",
            },
        ),
        "delegate_form": ("get", reverse("habilitations:delegate", args=[code]), {}),
        "delegate_post": (
            "post",
            reverse("habilitations:delegate", args=[code]),
            {
                "email": "tiers@cabinet.fr",
                "role": world.centre_role.pk,
                "establishment": world.head.siret,
            },
        ),
        "autocomplete": (
            "get",
            reverse("habilitations:autocomplete", args=[code]) + "?q=Dom",
            {},
        ),
        "revoke_form": ("get", reverse("habilitations:revoke", args=[code, centre.pk]), {}),
        "revoke_post": ("post", reverse("habilitations:revoke", args=[code, centre.pk]), {}),
        "role_form": ("get", reverse("habilitations:change_role", args=[code, centre.pk]), {}),
        "role_post": (
            "post",
            reverse("habilitations:change_role", args=[code, centre.pk]),
            {"role": world.manager_role.pk},
        ),
        "resend": ("post", reverse("habilitations:resend", args=[code, sent.invitation.pk]), {}),
        "cancel": ("post", reverse("habilitations:cancel", args=[code, sent.invitation.pk]), {}),
    }


VIEWS = [
    "manage",
    "invite_form",
    "invite_post",
    "delegate_form",
    "delegate_post",
    "autocomplete",
    "revoke_form",
    "revoke_post",
    "role_form",
    "role_post",
    "resend",
    "cancel",
]
PAGE_VIEWS = {"manage", "invite_form", "delegate_form", "autocomplete"}


def state(world):
    return (
        Invitation.objects.count(),
        Invitation.objects.open().count(),
        Habilitation.objects.active().count(),
        OutboxEmail.objects.count(),
    )


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("view", VIEWS)
def test_permission_matrix(setup, client, kind, view):
    world, sent, centre = setup
    method, url, data = view_cases(world, sent, centre)[view]
    login(client, world, kind)
    before = state(world)
    response = getattr(client, method)(url, data)
    if kind == "anonymous":
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:login"))
        assert state(world) == before
    elif kind == "gestionnaire":
        assert response.status_code in (200, 302), response.status_code
        if method == "post":
            assert state(world) != before  # the action happened
    elif kind == "foreign_gestionnaire" and view in PAGE_VIEWS:
        # Their own page: it works, and shows nothing of our company.
        assert response.status_code == 200
        body = response.content.decode()
        for secret in secrets_for(world, kind):
            assert secret not in body
    elif kind == "foreign_gestionnaire" and view in ("invite_post", "delegate_post"):
        # Our SIRET is not a choice on their form: refused on the field, nothing written.
        assert response.status_code == 200
        assert "Ce choix ne fait pas partie des propositions." in response.content.decode()
        assert state(world) == before
    else:
        assert response.status_code == 404, (view, kind, response.status_code)
        assert state(world) == before
        body = response.content.decode()
        for secret in secrets_for(world, kind):
            assert secret not in body


def test_unknown_demarche_is_404(world, client):
    client.force_login(world.gestionnaire)
    assert client.get(reverse("habilitations:manage", args=["inconnue"])).status_code == 404


@pytest.mark.parametrize("kind", KINDS)
def test_the_invitation_page_is_for_the_invitee_only(setup, client, kind):
    world, sent, _centre = setup
    login(client, world, kind)
    by_token = client.get(reverse("habilitations:invitation", args=[sent.token]))
    by_pk = client.get(reverse("habilitations:pending_invitation", args=[sent.invitation.pk]))
    if kind == "anonymous":
        assert by_token.status_code == 302
        assert "next=" in by_token["Location"]
        return
    # Nobody but the invitee sees who invites whom, where.
    assert by_token.status_code == 403
    assert by_pk.status_code == 404
    for response in (by_token, by_pk):
        assert "CFI ATLANTIQUE" not in response.content.decode()
    accept = client.post(
        reverse("habilitations:invitation", args=[sent.token]), {"decision": "accept"}
    )
    assert accept.status_code == 403
    assert Invitation.objects.get().accepted_at is None


def test_the_invitee_sees_accepts_and_gets_the_tile(setup, client):
    world, sent, _centre = setup
    client.force_login(world.colleague)
    page = client.get(reverse("habilitations:invitation", args=[sent.token]))
    assert page.status_code == 200
    html = page.content.decode()
    for text in ("Guy Duponttest", "Centre agréé", "CFI ATLANTIQUE", world.head.siret):
        assert text in html
    assert "Accepter" in html
    assert "Refuser" in html
    response = client.post(
        reverse("habilitations:invitation", args=[sent.token]), {"decision": "accept"}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("demarches:mes_demarches")
    assert Habilitation.objects.active().filter(user=world.colleague).exists()
    again = client.get(reverse("habilitations:invitation", args=[sent.token]))
    assert again.status_code == 410
    assert "Invitation déjà utilisée" in again.content.decode()
