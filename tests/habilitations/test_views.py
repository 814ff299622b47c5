"""The gestionnaire's pages: contents, bad input, autocomplete, query counts."""

import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from portail.companies.siret import format_siret
from portail.habilitations import flows
from portail.habilitations.models import AccessRequest, Habilitation, Invitation
from portail.habilitations.queries import PeopleByRole, pending_invitations_for
from portail.notifications.models import OutboxEmail
from tests.habilitations.factories import habilitate, other_demarche, person

pytestmark = pytest.mark.django_db


@pytest.fixture
def gclient(world, client):
    client.force_login(world.gestionnaire)
    return client


def url(world, name, *args):
    return reverse(f"habilitations:{name}", args=[world.demarche.code, *args])


def test_management_page_has_the_manuals_tabs_and_grouped_counts(world, gclient):
    html = gclient.get(url(world, "manage")).content.decode()
    for text in (
        "Personnes habilitées pour mon entreprise",
        "Caractéristiques",
        "Historique des messages",
        "Inviter un utilisateur",
        "Déléguer une habilitation à un tiers",
        "Libellé",
        "Type de service",
        "Certification professionnelle",
        "Guy Duponttest",
        "claire.centre@cfi.fr",
        world.head.siret,
    ):
        assert text in html, text
    assert (
        'Centre agréé</strong> <span class="fr-badge fr-badge--sm fr-badge--info fr-badge--no-icon">2 Personnes'
        in html
    )
    assert (
        'Gestionnaire CENTRES</strong> <span class="fr-badge fr-badge--sm fr-badge--info fr-badge--no-icon">1 Personne<'
        in html
    )
    # Other companies' people never appear.
    assert "fanny@autre.fr" not in html


def test_filter_and_search(world, gclient):
    html = gclient.get(url(world, "manage"), {"q": "clai"}).content.decode()
    assert "claire.centre@cfi.fr" in html
    assert (
        "guy.duponttest@cfi.fr" not in html.split("Invitations en attente")[0].split("Filtrer")[1]
    )
    html = gclient.get(
        url(world, "manage"), {"etablissement": world.sibling.siret}
    ).content.decode()
    assert "Aucune personne ne correspond à ces critères." in html


def test_pagination(world, gclient):
    for i in range(25):
        colleague = person(f"P{i:02d}", f"Collègue{i:02d}", world.head, email=f"c{i}@cfi.fr")
        habilitate(colleague, world.centre_role, world.head)
    first = gclient.get(url(world, "manage")).content.decode()
    second = gclient.get(url(world, "manage"), {"page": 2}).content.decode()
    assert "27 Personnes" in first
    assert "Page suivante" in first
    # The most recent first within a role: the first colleague lands on page 2.
    assert ">c24@cfi.fr<" in first
    assert ">c0@cfi.fr<" not in first
    assert ">c0@cfi.fr<" in second


def test_historique_des_messages_lists_the_emails_without_the_personal_link(world, gclient):
    sent = flows.invite(
        actor=world.gestionnaire,
        demarche=world.demarche,
        role=world.centre_role,
        establishment=world.head,
        invited_user=world.colleague,
    )
    OutboxEmail.objects.create(
        recipient="x@autre.fr",
        subject="Étranger",
        body_text="autre",
        category="invitation",
        demarche_id=world.demarche.pk,
        establishment_id=world.foreign_head.pk,
    )
    html = gclient.get(url(world, "manage"), {"onglet": "messages"}).content.decode()
    assert "Invitation à rejoindre la démarche CERES" in html
    assert "dominique.demandeur@cfi.fr" in html
    assert "En attente" in html
    assert "[lien personnel masqué]" in html
    assert sent.token not in html
    assert "Étranger" not in html


def invite_data(world, **overrides):
    data = {
        "user_query": "",
        "user": "",
        "email": "",
        "role": world.centre_role.pk,
        "establishment": world.head.siret,
        "submission_key": str(uuid.uuid4()),
        "action": "continue",
    }
    data.update(overrides)
    return data


def test_invite_by_account_then_confirmation(world, gclient):
    data = invite_data(world, user_query="Dominique Demandeur", user=str(world.colleague.public_id))
    response = gclient.post(url(world, "invite"), data, follow=True)
    assert "Email d&#x27;invitation transmis" in response.content.decode() or (
        "Email d'invitation transmis" in response.content.decode()
    )
    invitation = Invitation.objects.get()
    assert invitation.invited_user == world.colleague
    assert invitation.kind == Invitation.Kind.COLLEAGUE


def test_double_submission_of_continuer_makes_one_invitation(world, gclient):
    data = invite_data(world, email="nouveau@cfi.fr")
    first = gclient.post(url(world, "invite"), data)
    second = gclient.post(url(world, "invite"), data)
    assert first.status_code == second.status_code == 302
    assert Invitation.objects.count() == 1
    assert OutboxEmail.objects.filter(recipient="nouveau@cfi.fr").count() == 1


@pytest.mark.parametrize(
    ("overrides", "field_message"),
    [
        ({}, "Choisissez un utilisateur ou ajoutez son adresse électronique."),
        ({"email": "pas-une-adresse"}, "Saisissez une adresse électronique valide"),
        ({"email": "a@b.fr", "role": ""}, "Choisissez un rôle."),
        ({"email": "a@b.fr", "role": "999999"}, "Ce choix ne fait pas partie des propositions."),
        ({"email": "a@b.fr", "establishment": ""}, "Choisissez l’établissement de l’habilitation."),
        (
            {"email": "a@b.fr", "establishment": "99999999999999"},
            "Ce choix ne fait pas partie des propositions.",
        ),
        ({"user_query": "Dom", "user": "pas-un-uuid"}, "Choisissez une personne dans la liste"),
        ({"user_query": "Dom"}, "Choisissez une personne dans la liste"),
    ],
)
def test_invite_bad_input_is_refused_on_the_field_and_kept(
    world, gclient, overrides, field_message
):
    response = gclient.post(url(world, "invite"), invite_data(world, **overrides))
    assert response.status_code == 200
    html = response.content.decode()
    assert field_message in html
    if overrides.get("email"):
        assert f'value="{overrides["email"]}"' in html  # the form is kept filled
    assert not Invitation.objects.exists()
    assert not OutboxEmail.objects.exists()


def test_forged_role_of_another_demarche_siret_of_another_company_or_foreign_account(
    world, gclient
):
    _other, other_role = other_demarche()
    for overrides in (
        {"email": "a@b.fr", "role": other_role.pk},
        {"email": "a@b.fr", "establishment": world.foreign_head.siret},
        {"user_query": "Dominique", "user": str(world.foreign_colleague.public_id)},
    ):
        response = gclient.post(url(world, "invite"), invite_data(world, **overrides))
        assert response.status_code == 200
        assert "Ce choix ne fait pas partie" in response.content.decode() or (
            "Choisissez une personne dans la liste" in response.content.decode()
        )
    assert not Invitation.objects.exists()


def test_inviting_someone_who_already_has_the_role_says_so(world, gclient):
    data = invite_data(world, user_query="Claire", user=str(world.centre_user.public_id))
    response = gclient.post(url(world, "invite"), data)
    assert response.status_code == 200
    assert "Cette personne dispose déjà du rôle « Centre agréé » pour cet établissement." in (
        response.content.decode()
    )


def test_no_javascript_search_lists_the_accounts(world, gclient):
    response = gclient.post(
        url(world, "invite"), invite_data(world, user_query="domin", action="search")
    )
    html = response.content.decode()
    assert "Dominique Demandeur" in html
    assert str(world.colleague.public_id) in html
    assert "Dautre" not in html  # the other company's Dominique


def test_autocomplete_returns_only_accounts_of_the_company(world, gclient):
    # Habilitated here but signed up with another company's SIRET: invited by email, not proposed.
    outsider_by_declaration = person("Dominique", "Habilité", email="dh@ailleurs.fr")
    habilitate(outsider_by_declaration, world.centre_role, world.sibling)
    response = gclient.get(url(world, "autocomplete"), {"q": "dom"})
    assert response["Content-Type"] == "application/json"
    emails = [r["email"] for r in response.json()["results"]]
    assert emails == ["dominique.demandeur@cfi.fr"]  # not dom@autre.fr nor dh@ailleurs.fr
    assert gclient.get(url(world, "autocomplete"), {"q": "d"}).json() == {"results": []}
    full = gclient.get(url(world, "autocomplete"), {"q": "Dominique Dem"}).json()["results"]
    assert [r["name"] for r in full] == ["Dominique Demandeur"]


def test_delegate_bad_input(world, gclient):
    response = gclient.post(
        url(world, "delegate"),
        {
            "email": "tiers@cabinet.fr",
            "role": world.centre_role.pk,
            "establishment": world.head.siret,
            "ends_on": "2000-01-01",
        },
    )
    assert "La date de fin doit être postérieure à aujourd’hui." in response.content.decode()
    response = gclient.post(
        url(world, "delegate"),
        {"email": "", "role": world.centre_role.pk, "establishment": world.head.siret},
    )
    assert "Saisissez l’adresse électronique de la personne." in response.content.decode()
    assert not Invitation.objects.exists()


@pytest.mark.parametrize("page", ["invite", "delegate"])
def test_the_invitation_form_says_which_establishment_is_meant(world, gclient, page):
    world.head.commune = "Nantes"
    world.head.save()
    world.sibling.name = world.head.name  # two sites of the same name
    world.sibling.commune = "Saint-Nazaire"
    world.sibling.save()
    head = format_siret(world.head.siret)
    sibling = format_siret(world.sibling.siret)
    html = gclient.get(url(world, page)).content.decode()
    assert f"{head}, Nantes — CFI ATLANTIQUE</option>" in html
    assert f"{sibling}, Saint-Nazaire — CFI ATLANTIQUE</option>" in html
    assert f'data-where="{sibling}, Saint-Nazaire"' in html
    # The summary of a redisplayed form names the chosen establishment.
    response = gclient.post(
        url(world, page), {"role": world.centre_role.pk, "establishment": world.sibling.siret}
    )
    summary = response.content.decode().split('id="recapitulatif"')[1].split("</div>")[0]
    assert 'pour l\'entreprise <strong id="recap-company">CFI ATLANTIQUE</strong>.' in summary
    assert (
        "Établissement concerné : SIRET "
        f'<strong id="recap-where">{sibling}, Saint-Nazaire</strong>.' in summary
    )


def test_the_invitee_is_told_which_establishment_is_meant(world, client):
    world.head.commune = "Nantes"
    world.head.save()
    sent = flows.invite(
        actor=world.gestionnaire,
        demarche=world.demarche,
        role=world.centre_role,
        establishment=world.head,
        invited_user=world.colleague,
    )
    client.force_login(world.colleague)
    where = f"Établissement concerné : SIRET {format_siret(world.head.siret)}, Nantes."
    page = client.get(reverse("habilitations:invitation", args=[sent.token])).content.decode()
    assert where in page
    assert where in client.get(reverse("demarches:mes_demarches")).content.decode()


def test_delegation_to_a_particulier_account_is_refused_on_the_form(world, gclient):
    response = gclient.post(
        url(world, "delegate"),
        {
            "email": world.particulier.email,
            "role": world.centre_role.pk,
            "establishment": world.head.siret,
            "ends_on": "2099-12-31",
        },
    )
    assert response.status_code == 200
    html = response.content.decode()
    errors = html.split('id="email-errors"')[1].split("</div>")[0]
    assert "compte particulier" in errors
    assert "Email d'invitation transmis" not in html
    assert not Invitation.objects.exists()


def test_delegation_is_listed_apart_with_its_end_date(world, gclient):
    response = gclient.post(
        url(world, "delegate"),
        {
            "email": "expert@cabinet.fr",
            "role": world.centre_role.pk,
            "establishment": world.sibling.siret,
            "ends_on": "2099-12-31",
        },
    )
    assert response.status_code == 302
    accountant = person("Éric", "Expert", email="expert@cabinet.fr")
    invitation = Invitation.objects.get()
    assert invitation.kind == Invitation.Kind.THIRD_PARTY
    gclient.force_login(accountant)
    gclient.post(
        reverse("habilitations:pending_invitation", args=[invitation.pk]), {"decision": "accept"}
    )
    habilitation = Habilitation.objects.get(user=accountant)
    assert habilitation.origin == Habilitation.Origin.DELEGATION
    gclient.force_login(world.gestionnaire)
    html = gclient.get(url(world, "manage")).content.decode()
    delegations = html.split('id="delegations"')[1]
    assert "expert@cabinet.fr" in delegations
    assert "le 31/12/2099" in delegations
    assert "expert@cabinet.fr" not in html.split("Invitations en attente")[0]


def test_revoke_page_says_why_the_last_gestionnaire_stays(world, gclient):
    mine = Habilitation.objects.get(user=world.gestionnaire, role=world.manager_role)
    html = gclient.get(url(world, "revoke", mine.pk)).content.decode()
    assert "Révocation impossible" in html
    assert "dernier gestionnaire" in html
    assert "Confirmer la révocation" not in html
    response = gclient.post(url(world, "revoke", mine.pk), follow=True)
    assert "dernier gestionnaire" in response.content.decode()
    assert Habilitation.objects.active().filter(pk=mine.pk).exists()


def test_revoke_and_change_role_through_the_pages(world, gclient):
    centre = Habilitation.objects.get(user=world.centre_user)
    assert (
        "Confirmer la révocation" in gclient.get(url(world, "revoke", centre.pk)).content.decode()
    )
    response = gclient.post(url(world, "change_role", centre.pk), {"role": "nope"})
    assert "Ce choix ne fait pas partie des propositions." in response.content.decode()
    gclient.post(url(world, "change_role", centre.pk), {"role": world.manager_role.pk})
    new = Habilitation.objects.active().get(user=world.centre_user)
    assert new.role == world.manager_role
    gclient.post(url(world, "revoke", new.pk))
    assert not Habilitation.objects.active().filter(user=world.centre_user).exists()
    # Revoked: its pages are gone.
    assert gclient.get(url(world, "revoke", new.pk)).status_code == 404


def test_resend_and_cancel(world, gclient):
    sent = flows.invite(
        actor=world.gestionnaire,
        demarche=world.demarche,
        role=world.centre_role,
        establishment=world.head,
        email="x@cfi.fr",
    )
    gclient.post(url(world, "resend", sent.invitation.pk))
    assert OutboxEmail.objects.filter(recipient="x@cfi.fr").count() == 2
    gclient.post(url(world, "cancel", sent.invitation.pk))
    assert Invitation.objects.get().cancelled_at is not None
    assert gclient.post(url(world, "cancel", sent.invitation.pk)).status_code == 404


def test_invitation_error_pages(world, client):
    sent = flows.invite(
        actor=world.gestionnaire,
        demarche=world.demarche,
        role=world.centre_role,
        establishment=world.head,
        invited_user=world.colleague,
    )
    client.force_login(world.colleague)
    unknown = client.get(reverse("habilitations:invitation", args=["x" * 43]))
    assert unknown.status_code == 404
    assert "Invitation introuvable" in unknown.content.decode()
    Invitation.objects.update(expires_at=sent.invitation.sent_at)
    expired = client.get(reverse("habilitations:invitation", args=[sent.token]))
    assert expired.status_code == 410
    assert "Invitation expirée" in expired.content.decode()


def test_unknown_tokens_are_rate_limited(limits_store, world, client):
    client.force_login(world.colleague)
    for i in range(10):
        client.get(reverse("habilitations:invitation", args=[f"faux{i}"]))
    blocked = client.get(reverse("habilitations:invitation", args=["faux-encore"]))
    assert blocked.status_code == 429
    assert "Trop de liens" in blocked.content.decode()


def test_pending_invitations_on_mes_demarches(world, client):
    flows.invite(
        actor=world.gestionnaire,
        demarche=world.demarche,
        role=world.centre_role,
        establishment=world.head,
        invited_user=world.colleague,
    )
    client.force_login(world.colleague)
    html = client.get(reverse("demarches:mes_demarches")).content.decode()
    invitation = Invitation.objects.get()
    assert reverse("habilitations:pending_invitation", args=[invitation.pk]) in html
    assert "Guy Duponttest vous invite à accéder au service CERES" in html
    assert not pending_invitations_for(world.centre_user).exists()


def test_page_queries_do_not_grow_with_the_number_of_people(
    world, gclient, django_assert_max_num_queries
):
    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert gclient.get(url(world, "manage")).status_code == 200
        return [q["sql"][:90] for q in ctx.captured_queries]

    def more(i):  # one more row in each list of the page
        colleague = person(f"Q{i}", f"Nombreux{i}", world.head, email=f"n{i}@cfi.fr")
        habilitate(colleague, world.centre_role, world.head, granted_by=world.gestionnaire)
        flows.invite(
            actor=world.gestionnaire,
            demarche=world.demarche,
            role=world.centre_role,
            establishment=world.sibling,
            email=f"inv{i}@cfi.fr",
        )
        third = person(f"T{i}", f"Tiers{i}", email=f"t{i}@cabinet.fr")
        habilitate(third, world.centre_role, world.head, origin=Habilitation.Origin.DELEGATION)
        AccessRequest.objects.create(
            requester=person(f"R{i}", f"Demande{i}", world.head, email=f"r{i}@cfi.fr"),
            demarche=world.demarche,
            establishment=world.head,
            role=world.centre_role,
            expires_at=timezone.now() + timedelta(days=30),
        )

    more(0)  # every list non-empty before the baseline
    few = count()
    for i in range(1, 30):
        more(i)
    many = count()
    # One query per role on the page: with few people the first page shows both roles, with
    # many only the first one.
    assert len(many) <= len(few), "\n".join(many)
    with django_assert_max_num_queries(18):
        gclient.get(url(world, "manage"))


def test_autocomplete_queries_are_constant(world, gclient, django_assert_max_num_queries):
    for i in range(20):
        person("Dominique", f"Nom{i}", world.head, email=f"d{i}@cfi.fr")
    # A first request writes what the session keeps of its activity (force_login's session has
    # none of it), whatever ran before this test: counted alone, it would add a save.
    gclient.get(url(world, "autocomplete"), {"q": "x"})
    # the session, the user, the company's SIRENs (for this démarche), whether the démarche
    # requires a second factor, the accounts
    with django_assert_max_num_queries(5):
        results = gclient.get(url(world, "autocomplete"), {"q": "dom"}).json()["results"]
    assert len(results) == 10


def test_people_are_paged_role_after_role_most_recent_first(world):
    """PeopleByRole slices exactly what one query ordered by role, then date, would."""
    start = timezone.now() - timedelta(days=30)
    for i in range(7):
        colleague = person(f"M{i}", f"Gestion{i}", world.head, email=f"m{i}@cfi.fr")
        habilitate(colleague, world.manager_role, world.sibling, granted_at=start + timedelta(i))
    for i in range(9):
        colleague = person(f"C{i}", f"Centre{i}", world.head, email=f"c{i}@cfi.fr")
        habilitate(colleague, world.centre_role, world.head, granted_at=start + timedelta(i))
    people = Habilitation.objects.active().filter(demarche=world.demarche)
    roles = list(world.demarche.roles.all())
    expected = list(
        people.order_by("role__order", "role__label", "-granted_at", "-pk").values_list(
            "pk", flat=True
        )
    )
    rows = {role.pk: people.filter(role=role).count() for role in roles}
    listed = PeopleByRole(people, roles, rows)
    assert len(listed) == len(expected) == 7 + 9 + 4  # and the world's 4
    for size in (1, 3, 5, 20):
        for first in range(0, len(expected), size):
            assert listed[first : first + size] == expected[first : first + size]
