"""The state changes: invitations (colleague, email, delegation), answers, revocation, roles."""

import re
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from portail.audit.models import AuditEvent
from portail.companies.siret import format_siret
from portail.core.secrets import keyed_hash
from portail.habilitations import flows
from portail.habilitations.grants import HabilitationError
from portail.habilitations.models import Habilitation, Invitation
from portail.notifications.models import OutboxEmail
from tests.habilitations.factories import habilitate, person

pytestmark = pytest.mark.django_db


def invite_colleague(world, **kwargs):
    params = {
        "actor": world.gestionnaire,
        "demarche": world.demarche,
        "role": world.centre_role,
        "establishment": world.head,
        "invited_user": world.colleague,
    }
    params.update(kwargs)
    return flows.invite(**params)


def test_invitation_email_is_the_manuals(world, settings):
    settings.PORTAL_BASE_URL = "https://mesdemarches.exemple.fr"
    world.head.commune = "Nantes"
    world.head.save()
    sent = invite_colleague(world)
    where = f"{format_siret(world.head.siret)}, Nantes"
    email = OutboxEmail.objects.get(recipient="dominique.demandeur@cfi.fr")
    assert email.subject == "[TEST] Invitation à rejoindre la démarche CERES"
    assert email.demarche_id == world.demarche.pk
    assert email.establishment_id == world.head.pk
    text = email.body_text
    assert text.startswith(
        "Bonjour,\n\nGuy Duponttest vous invite à accéder au service CERES avec le rôle Centre agréé "
        "pour l'entreprise CFI ATLANTIQUE. "
        f"Établissement concerné : SIRET {where}.\n\n"
        "Pour valider cette invitation, veuillez vous connecter sur le portail Mes Démarches "
        "Emploi et Formation Professionnelle en suivant le lien ci-dessous.\n\n"
        f"https://mesdemarches.exemple.fr/habilitations/invitations/{sent.token}/\n\n"
        "Si vous n'avez pas de compte sur le Portail de Services, il faudra vous en créer un au "
        "préalable."
    )
    assert (
        "Cordialement,\n\nL'équipe technique Mes Démarches Emploi et Formation Professionnelle"
        in text
    )
    assert (
        "Ce message est envoyé par un automate, merci de ne pas y répondre : votre réponse ne "
        "pourra pas être traitée." in text
    )
    assert f'href="https://mesdemarches.exemple.fr/habilitations/invitations/{sent.token}/"' in (
        email.body_html
    )
    assert f"CFI ATLANTIQUE. Établissement concerné : SIRET {where}." in email.body_html


def test_only_a_keyed_hash_of_the_token_is_stored(world):
    sent = invite_colleague(world)
    invitation = Invitation.objects.get()
    assert len(sent.token) >= 43  # 256 bits, URL-safe
    assert invitation.token_hash == keyed_hash(sent.token, "invitation")
    assert sent.token not in str(Invitation.objects.values().get())
    assert not AuditEvent.objects.filter(data__icontains=sent.token).exists()
    assert invitation.expires_at - invitation.sent_at == timedelta(days=14)


def test_validity_is_a_setting(world, settings):
    settings.INVITATION_VALIDITY_DAYS = 3
    invite_colleague(world)
    invitation = Invitation.objects.get()
    assert invitation.expires_at - invitation.sent_at == timedelta(days=3)


def test_accepting_grants_the_role_once_and_tells_the_inviter(world):
    sent = invite_colleague(world)
    habilitation = flows.accept_invitation(user=world.colleague, token=sent.token)
    assert habilitation.role == world.centre_role
    assert habilitation.establishment == world.head
    assert habilitation.origin == Habilitation.Origin.INVITATION
    assert habilitation.granted_by == world.gestionnaire
    invitation = Invitation.objects.get()
    assert invitation.accepted_by == world.colleague
    assert invitation.habilitation == habilitation
    assert OutboxEmail.objects.filter(
        recipient=world.gestionnaire.email, subject__contains="acceptée"
    ).exists()
    assert set(
        AuditEvent.objects.filter(action__startswith="invitation.").values_list("action", flat=True)
    ) == {"invitation.sent", "invitation.accepted"}
    with pytest.raises(flows.InvitationError) as used:
        flows.accept_invitation(user=world.colleague, token=sent.token)
    assert used.value.reason == "used"
    assert Habilitation.objects.filter(user=world.colleague).count() == 1


def test_email_invitation_is_accepted_by_the_account_with_that_address_only(world):
    sent = invite_colleague(world, invited_user=None, email="Nouvelle.Personne@Exemple.FR")
    assert Invitation.objects.get().email == "nouvelle.personne@exemple.fr"
    with pytest.raises(flows.InvitationError) as other:
        flows.accept_invitation(user=world.colleague, token=sent.token)
    assert other.value.reason == "not_for_you"
    newcomer = person("Nina", "Nouvelle", email="nouvelle.personne@exemple.fr")
    flows.accept_invitation(user=newcomer, token=sent.token)
    assert Habilitation.objects.active().filter(user=newcomer, role=world.centre_role).exists()


def test_someone_elses_invitation_cannot_be_used_even_by_pk(world):
    sent = invite_colleague(world)
    with pytest.raises(flows.InvitationError) as by_token:
        flows.find_invitation(world.centre_user, sent.token)
    assert by_token.value.reason == "not_for_you"
    with pytest.raises(flows.InvitationError) as by_pk:
        flows.find_invitation(world.centre_user, pk=sent.invitation.pk)
    assert by_pk.value.reason == "unknown"
    assert flows.find_invitation(world.colleague, pk=sent.invitation.pk) == sent.invitation


def test_expired_cancelled_and_unknown_invitations_are_refused(world):
    sent = invite_colleague(world)
    Invitation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(flows.InvitationError) as expired:
        flows.accept_invitation(user=world.colleague, token=sent.token)
    assert expired.value.reason == "expired"
    token = flows.resend_invitation(actor=world.gestionnaire, invitation=sent.invitation)
    with pytest.raises(flows.InvitationError) as old_link:
        flows.find_invitation(world.colleague, sent.token)
    assert old_link.value.reason == "unknown"
    assert flows.find_invitation(world.colleague, token).pk == sent.invitation.pk
    flows.cancel_invitation(actor=world.gestionnaire, invitation=sent.invitation)
    with pytest.raises(flows.InvitationError) as cancelled:
        flows.accept_invitation(user=world.colleague, token=token)
    assert cancelled.value.reason == "cancelled"
    assert not Habilitation.objects.filter(user=world.colleague).exists()
    assert OutboxEmail.objects.filter(recipient=world.colleague.email).count() == 3


def test_refusing_closes_the_invitation(world):
    sent = invite_colleague(world)
    flows.refuse_invitation(user=world.colleague, token=sent.token)
    assert Invitation.objects.get().refused_at is not None
    assert not Habilitation.objects.filter(user=world.colleague).exists()
    # A new invitation may follow a refusal.
    invite_colleague(world)
    assert Invitation.objects.pending().count() == 1


def test_a_particulier_cannot_accept_a_professional_demarche(world):
    # Invited before the account existed; the account then made is a Particulier one.
    sent = invite_colleague(world, invited_user=None, email="futur.particulier@exemple.fr")
    late = person(
        "Paul",
        "Particulier",
        email="futur.particulier@exemple.fr",
        account_type=world.particulier.AccountType.PARTICULIER,
    )
    with pytest.raises(flows.InvitationError) as refused:
        flows.accept_invitation(user=late, token=sent.token)
    assert refused.value.reason == "particulier"


@pytest.mark.parametrize("kind", [Invitation.Kind.COLLEAGUE, Invitation.Kind.THIRD_PARTY])
def test_an_invitation_a_particulier_account_cannot_accept_is_refused_at_once(world, kind):
    with pytest.raises(HabilitationError) as refused:
        flows.invite(
            actor=world.gestionnaire,
            demarche=world.demarche,
            role=world.centre_role,
            establishment=world.head,
            email="  PIA@exemple.fr ",
            kind=kind,
            delegation_ends_at=timezone.now() + timedelta(days=30),
        )
    assert refused.value.field == "email"
    assert "compte particulier" in str(refused.value)
    assert "réservée aux comptes professionnels" in str(refused.value)
    assert not Invitation.objects.exists()
    assert not OutboxEmail.objects.exists()


def test_a_demarche_open_to_particuliers_may_invite_one(world):
    world.demarche.professional_only = False
    world.demarche.save()
    sent = invite_colleague(world, invited_user=None, email=world.particulier.email)
    assert flows.accept_invitation(user=world.particulier, token=sent.token).user == (
        world.particulier
    )


def test_double_submission_makes_one_invitation_and_one_email(world):
    key = uuid.uuid4()
    first = invite_colleague(world, submission_key=key)
    second = invite_colleague(world, submission_key=key)
    assert first.created
    assert not second.created
    assert second.invitation == first.invitation
    assert Invitation.objects.count() == 1
    assert OutboxEmail.objects.filter(recipient=world.colleague.email).count() == 1


def test_a_second_invitation_while_one_is_pending_is_refused(world):
    invite_colleague(world, submission_key=uuid.uuid4())
    with pytest.raises(HabilitationError, match="déjà en attente"):
        invite_colleague(world, submission_key=uuid.uuid4())
    # Once expired, a new one may be sent.
    Invitation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert invite_colleague(world).created
    assert Invitation.objects.open().count() == 1


def test_inviting_someone_who_already_holds_the_role_is_refused(world):
    with pytest.raises(HabilitationError, match="dispose déjà du rôle « Centre agréé »"):
        invite_colleague(world, invited_user=world.centre_user)
    with pytest.raises(HabilitationError, match="dispose déjà"):
        invite_colleague(world, invited_user=None, email="CLAIRE.centre@cfi.fr")
    assert not Invitation.objects.exists()


def test_scope_is_checked_again_by_the_flow(world):
    with pytest.raises(HabilitationError, match="pas gestionnaire"):
        invite_colleague(world, establishment=world.foreign_head)
    with pytest.raises(HabilitationError, match="pas gestionnaire"):
        invite_colleague(world, actor=world.centre_user)
    with pytest.raises(HabilitationError, match="votre entreprise"):
        invite_colleague(world, invited_user=world.foreign_colleague)
    world.sibling.is_active = False
    world.sibling.save()
    with pytest.raises(HabilitationError, match="fermé"):
        invite_colleague(world, establishment=world.sibling)
    assert not Invitation.objects.exists()
    assert not OutboxEmail.objects.exists()


def test_delegation_to_a_third_party_ends_by_itself(world):
    ends_at = timezone.now() + timedelta(days=30)
    sent = flows.invite(
        actor=world.gestionnaire,
        demarche=world.demarche,
        role=world.centre_role,
        establishment=world.sibling,
        email="expert@cabinet-comptable.fr",
        kind=Invitation.Kind.THIRD_PARTY,
        delegation_ends_at=ends_at,
    )
    assert (
        "prendra fin le"
        in OutboxEmail.objects.get(recipient="expert@cabinet-comptable.fr").body_text
    )
    accountant = person("Éric", "Expert", email="expert@cabinet-comptable.fr")
    habilitation = flows.accept_invitation(user=accountant, token=sent.token)
    assert habilitation.origin == Habilitation.Origin.DELEGATION
    assert habilitation.ends_at == ends_at
    assert Habilitation.objects.active().filter(pk=habilitation.pk).exists()
    assert (
        not Habilitation.objects.active(now=ends_at + timedelta(seconds=1))
        .filter(pk=habilitation.pk)
        .exists()
    )


def test_delegation_end_must_be_in_the_future(world):
    with pytest.raises(HabilitationError, match="postérieure"):
        flows.invite(
            actor=world.gestionnaire,
            demarche=world.demarche,
            role=world.centre_role,
            establishment=world.head,
            email="tiers@exemple.fr",
            kind=Invitation.Kind.THIRD_PARTY,
            delegation_ends_at=timezone.now() - timedelta(days=1),
        )


def manager_habilitation(world, user=None):
    return Habilitation.objects.get(
        user=user or world.gestionnaire, role=world.manager_role, establishment=world.head
    )


def test_the_last_gestionnaire_cannot_be_revoked_not_even_by_themselves(world):
    mine = manager_habilitation(world)
    with pytest.raises(flows.LastGestionnaireError, match="dernier gestionnaire"):
        flows.revoke(actor=world.gestionnaire, habilitation=mine)
    assert "dernier gestionnaire" in flows.last_gestionnaire_reason(mine)
    with pytest.raises(flows.LastGestionnaireError):
        flows.change_role(actor=world.gestionnaire, habilitation=mine, role=world.centre_role)
    assert Habilitation.objects.active().filter(pk=mine.pk).exists()
    # A delegated gestionnaire does not count: delegations end by themselves.
    tiers = person("Tom", "Tiers", email="tom@tiers.fr")
    habilitate(
        tiers,
        world.manager_role,
        world.head,
        origin=Habilitation.Origin.DELEGATION,
        ends_at=timezone.now() + timedelta(days=3),
    )
    with pytest.raises(flows.LastGestionnaireError):
        flows.revoke(actor=world.gestionnaire, habilitation=mine)


def test_revocation_with_another_gestionnaire_and_its_email(world):
    second = person("Sophie", "Seconde", world.head, email="sophie@cfi.fr")
    habilitate(second, world.manager_role, world.head)
    mine = manager_habilitation(world)
    assert flows.last_gestionnaire_reason(mine) == ""
    flows.revoke(actor=world.gestionnaire, habilitation=mine)
    assert not Habilitation.objects.active().filter(pk=mine.pk).exists()
    assert OutboxEmail.objects.filter(
        recipient=world.gestionnaire.email, subject__contains="révoqué"
    ).exists()
    assert AuditEvent.objects.filter(
        action="habilitation.revoked", actor=world.gestionnaire
    ).exists()
    # Now Sophie is the last one.
    with pytest.raises(flows.LastGestionnaireError):
        flows.revoke(actor=second, habilitation=manager_habilitation(world, second))


def test_change_role(world):
    centre = Habilitation.objects.get(user=world.centre_user)
    new = flows.change_role(actor=world.gestionnaire, habilitation=centre, role=world.manager_role)
    assert new.role == world.manager_role
    assert new.user == world.centre_user
    centre.refresh_from_db()
    assert centre.revoked_at is not None
    email = OutboxEmail.objects.get(recipient=world.centre_user.email)
    assert "Centre agréé devient Gestionnaire CENTRES" in email.body_text
    with pytest.raises(HabilitationError, match="déjà le rôle"):
        flows.change_role(actor=world.gestionnaire, habilitation=new, role=world.manager_role)


def test_a_foreign_gestionnaire_cannot_touch_our_people(world):
    centre = Habilitation.objects.get(user=world.centre_user)
    with pytest.raises(HabilitationError):
        flows.revoke(actor=world.foreign_gestionnaire, habilitation=centre)
    with pytest.raises(HabilitationError):
        flows.change_role(
            actor=world.foreign_gestionnaire, habilitation=centre, role=world.manager_role
        )
    sent = invite_colleague(world)
    with pytest.raises(HabilitationError):
        flows.cancel_invitation(actor=world.foreign_gestionnaire, invitation=sent.invitation)
    with pytest.raises(HabilitationError):
        flows.resend_invitation(actor=world.foreign_gestionnaire, invitation=sent.invitation)


def test_token_link_pattern(world):
    sent = invite_colleague(world)
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", sent.token)
