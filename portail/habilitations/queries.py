"""Read-side helpers other apps use to show habilitations data."""

from django.db.models import Q

from portail.habilitations.models import Invitation


def pending_invitations_for(user):
    """Invitations waiting for `user` (sent to the account or to its email address)."""
    return (
        Invitation.objects.pending()
        .filter(Q(invited_user=user) | Q(email__iexact=user.email))
        .select_related("demarche", "establishment", "role", "sent_by")
    )
