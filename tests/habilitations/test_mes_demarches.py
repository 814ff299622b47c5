from datetime import datetime, time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from portail.demarches.models import Demarche
from portail.habilitations.models import Habilitation
from tests.factories import (
    DemarcheFactory,
    EstablishmentFactory,
    HabilitationFactory,
    RoleFactory,
    UserFactory,
)
from tests.habilitations.factories import gestionnaire_of

pytestmark = pytest.mark.django_db
URL = reverse("demarches:mes_demarches")


def test_anonymous_is_sent_to_login(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_no_demarche_yet(client, ceres):
    client.force_login(UserFactory())
    response = client.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Ajoutez votre première démarche depuis la liste ci-dessous" in html
    assert "Les autres démarches" in html
    assert "Certifications Emplois — CERES" in html
    assert reverse("demarches:add", args=["ceres"]) in html
    assert "Mon Activité Formation" in html
    # the dialog and its two choices are on the page
    assert "Ajouter une démarche" in html
    assert "Demander l'accès à un gestionnaire" in html
    assert "Saisir le code d'activation" in html


def test_held_demarche_is_a_tile_linking_to_the_demarche(client, ceres):
    user = UserFactory()
    HabilitationFactory(user=user, role=ceres.roles.get(code="centre-agree"))
    client.force_login(user)
    html = client.get(URL).content.decode()
    assert "Ajoutez votre première démarche" not in html
    tiles, others = html.split("Les autres démarches")
    assert f'<a href="{ceres.url}">Certifications Emplois — CERES</a>' in tiles
    assert "Certifications Emplois — CERES" not in others
    # another establishment can still be added (a head office activating for a site)
    assert reverse("demarches:add", args=["ceres"]) in tiles
    # a plain holder gets no gear
    assert reverse("habilitations:manage", args=["ceres"]) not in html


def test_a_delegation_says_when_it_ends_on_its_tile(client, ceres):
    day = timezone.localdate() + timedelta(days=30)
    user = UserFactory()
    HabilitationFactory(
        user=user,
        role=ceres.roles.get(code="centre-agree"),
        origin=Habilitation.Origin.DELEGATION,
        ends_at=timezone.make_aware(datetime.combine(day, time.max)),
    )
    client.force_login(user)
    tiles = client.get(URL).content.decode().split("Les autres démarches")[0]
    tile = tiles.split('id="tile-ceres"')[1]
    assert f"Délégation jusqu'au {day:%d/%m/%Y}" in tile


def test_a_habilitation_that_does_not_end_says_no_end(client, ceres):
    user = UserFactory()
    HabilitationFactory(user=user, role=ceres.roles.get(code="centre-agree"))
    client.force_login(user)
    assert "Délégation jusqu" not in client.get(URL).content.decode()


def test_the_gear_shows_only_to_gestionnaires_of_that_demarche(client, ceres):
    establishment = EstablishmentFactory()
    manager = gestionnaire_of(ceres, establishment)
    maf = Demarche.objects.get(code="mon-activite-formation")
    HabilitationFactory(user=manager, role=maf.roles.get(can_manage=False))
    client.force_login(manager)
    html = client.get(URL).content.decode()
    assert reverse("habilitations:manage", args=["ceres"]) in html
    assert reverse("habilitations:manage", args=["mon-activite-formation"]) not in html


def test_revoked_or_ended_habilitations_do_not_count(client, ceres):
    user = UserFactory()
    role = ceres.roles.get(code="gestionnaire-centres")
    HabilitationFactory(user=user, role=role, revoked_at=timezone.now())
    HabilitationFactory(user=user, role=role, ends_at=timezone.now() - timezone.timedelta(days=1))
    client.force_login(user)
    html = client.get(URL).content.decode()
    assert "Ajoutez votre première démarche" in html
    assert reverse("habilitations:manage", args=["ceres"]) not in html


def test_the_number_of_queries_does_not_grow(client, ceres, django_assert_max_num_queries):
    user = UserFactory()
    client.force_login(user)
    client.get(URL)  # warm up (session, caches)
    with django_assert_max_num_queries(12) as few:
        client.get(URL)
    for _ in range(15):
        role = RoleFactory(
            demarche=DemarcheFactory(url="https://demarche.exemple.fr/"), can_manage=True
        )
        for _ in range(3):
            HabilitationFactory(user=user, role=role)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(URL)
    assert response.content.decode().count("fr-icon-settings-5-line") == 15


def test_nobody_sees_another_companys_demarches(client, ceres):
    establishment = EstablishmentFactory()
    gestionnaire_of(ceres, establishment)
    client.force_login(UserFactory(with_establishment=True))
    html = client.get(URL).content.decode()
    assert "Ajoutez votre première démarche depuis la liste ci-dessous" in html
    assert establishment.siret not in html
    assert reverse("habilitations:manage", args=["ceres"]) not in html


def test_particulier_is_told_the_demarches_are_for_professionals(client, ceres):
    client.force_login(UserFactory(particulier=True))
    html = client.get(URL).content.decode()
    assert "Cette démarche est réservée aux comptes professionnels." in html
    assert "réservée aux comptes professionnels. Votre compte est un compte particulier" in html
    assert "Saisir le code d" not in html
    response = client.get(reverse("demarches:add", args=["ceres"]))
    assert response.status_code == 403
    assert "Démarche réservée aux professionnels" in response.content.decode()


def test_a_kept_tile_shows_each_person_their_own(client, ceres):
    """The tiles are rendered once per process for the same values (mes_demarches_views): one
    person's gear, delegation or label must never reach another's page."""
    centre_agree = ceres.roles.get(code="centre-agree")
    day = timezone.localdate() + timedelta(days=12)
    delegated, plain = UserFactory(), UserFactory()
    HabilitationFactory(
        user=delegated,
        role=centre_agree,
        origin=Habilitation.Origin.DELEGATION,
        ends_at=timezone.make_aware(datetime.combine(day, time.max)),
    )
    HabilitationFactory(user=plain, role=centre_agree)
    manager = gestionnaire_of(ceres, EstablishmentFactory())

    def tile_of(user):
        client.force_login(user)
        html = client.get(URL).content.decode().split("Les autres démarches")[0]
        return html.split('id="tile-ceres"')[1]

    for _ in range(2):  # the second time from the kept tiles
        assert f"Délégation jusqu'au {day:%d/%m/%Y}" in tile_of(delegated)
        assert "Délégation jusqu" not in tile_of(plain)
        assert reverse("habilitations:manage", args=["ceres"]) in tile_of(manager)
        assert reverse("habilitations:manage", args=["ceres"]) not in tile_of(plain)
    Demarche.objects.filter(pk=ceres.pk).update(short_label="CERES 2")
    assert "Certifications Emplois — CERES 2</a>" in tile_of(plain)


def test_an_edited_demarche_shows_at_once_in_the_other_demarches(client, ceres):
    """ "Les autres démarches" is kept per process under the démarches' values as read."""
    client.force_login(UserFactory())
    assert "Une description revue" not in client.get(URL).content.decode()
    Demarche.objects.filter(code="mon-activite-formation").update(
        description="Une description revue"
    )
    others = client.get(URL).content.decode().split("Les autres démarches")[1]
    assert "Une description revue" in others
