"""Retention of accounts never activated (docs/retention.md): deleted
`RETENTION_UNACTIVATED_ACCOUNT_DAYS` after their sign-up. A housekeeping chore.

Left alone: staff accounts, agents (created by an administrator), accounts holding a
habilitation (none can, without a login: a guard all the same), closed accounts (kept anonymous
for the journal, decision 0004). What goes with the row: its links (`AccountToken`), sessions and
browsers, second factors (nothing of these exists without a login). Invitations addressed to the
account lose their link to it and keep their address: should the person sign up again, they find
them. The journal keeps its events (the actor becomes empty) until its own limit; the outbox its
rows, whose bodies go after RETENTION_OUTBOX_BODY_DAYS.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from portail.accounts.models import User
from portail.audit.journal import record
from portail.habilitations.models import Habilitation, Invitation

logger = logging.getLogger(__name__)

BATCH = 500


def unactivated_accounts() -> QuerySet[User]:
    cutoff = timezone.now() - timedelta(days=int(settings.RETENTION_UNACTIVATED_ACCOUNT_DAYS))
    return User.objects.filter(
        email_verified_at__isnull=True,
        is_active=True,
        is_staff=False,
        is_superuser=False,
        date_joined__lt=cutoff,
        last_login__isnull=True,
        agent_profile__isnull=True,  # backoffice's reverse relation, named, not imported
    ).exclude(pk__in=Habilitation.objects.values("user_id"))


def delete_unactivated_accounts() -> int:
    """Delete the accounts never activated past the limit; how many were deleted."""
    deleted = 0
    for pk in list(unactivated_accounts().order_by("pk").values_list("pk", flat=True)[:BATCH]):
        with transaction.atomic():
            user = unactivated_accounts().select_for_update(of=("self",)).filter(pk=pk).first()
            if user is None:  # activated meanwhile
                continue
            Invitation.objects.filter(invited_user=user).update(invited_user=None)
            record(
                "account.unactivated_deleted",
                data={"account": user.pk, "signed_up": user.date_joined.date().isoformat()},
            )
            user.delete()
            deleted += 1
    if deleted:
        logger.info("%d account(s) never activated deleted", deleted)
    return deleted
