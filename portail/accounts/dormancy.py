"""Dormant accounts: warned, deactivated, reactivated by their owner (docs/retention.md).

An account is *unused* when its last login (`last_login`: every way of signing in, including a
sign-in to a démarche through the portal, which logs in to the portal), or its activation or its
last reactivation when later, is older than `DORMANT_ACCOUNT_DAYS`. Staff accounts (the Django
administrators) and accounts never activated (the retention deletes those) are left out.

1. `warn_dormant_accounts` (a housekeeping chore) emails the owner once, remembered in
   `dormancy_warned_at`: "sans connexion de votre part avant le …, votre compte sera désactivé";
2. a login clears the warning (`clear_warning_at_login`, a `user_logged_in` receiver);
3. `DORMANT_ACCOUNT_NOTICE_DAYS` after the warning, `deactivate_dormant_accounts` deactivates the
   account: `is_active` false, its sessions ended (the apps above hear `session_ending`: the
   démarches get a logout), an email with a one-use reactivation link. Habilitations are kept:
   the account comes back as it was;
4. the last gestionnaire of a démarche on an establishment is not deactivated at that point: the
   agents of the region are warned first (`dormant_sole_gestionnaire`, a signal the back-office
   answers by email), and the deactivation waits `DORMANT_ACCOUNT_AGENTS_NOTICE_DAYS` more;
5. `reactivate` (the emailed link, then a POST) makes the account active again; the owner then
   logs in. A deactivated owner who types the right password on the login page gets a fresh link
   (`send_reactivation_link`, limited per address by the view).

Every step is journalled: `account.dormancy_warned`, `account.dormancy_cleared`,
`account.dormancy_agents_warned`, `account.deactivated_dormant`, `account.reactivation_sent`,
`account.reactivated`.
"""

import logging
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.signals import user_logged_in
from django.contrib.sessions.models import Session
from django.db import transaction
from django.db.models import DateTimeField, QuerySet
from django.db.models.functions import Coalesce, Greatest
from django.dispatch import Signal
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from portail.accounts.flows import (
    EMAIL_CATEGORY,
    TokenError,
    _burn_tokens,
    _issue_token,
    _link,
    _token_hash,
    lock_gestionnaires_around,
    sole_gestionnaire_of,
)
from portail.accounts.models import AccountToken, User, UserSession
from portail.accounts.user_sessions import session_ending
from portail.audit.journal import record
from portail.core.context import SYSTEM, Context, context_of
from portail.notifications.emails import send_email

logger = logging.getLogger(__name__)

REACTIVATION_VALIDITY = timedelta(days=30)
BATCH = 200  # accounts handled per chore run: the worker runs the chores every 10 minutes

# Sent inside the deactivation's transaction when the account is the last gestionnaire of a
# démarche somewhere: `user`, `habilitations` (those nobody else manages), `deactivation_on` (the
# date the account will be deactivated). The back-office emails the agents of the regions; each
# receiver returns how many agents it warned.
dormant_sole_gestionnaire = Signal()


def _days(name: str) -> timedelta:
    return timedelta(days=int(getattr(settings, name)))


def last_use() -> Greatest:
    """The account's last use: its last login, else its activation, else its sign-up; or its
    last reactivation when later."""
    return Greatest(
        Coalesce("last_login", "email_verified_at", "date_joined", output_field=DateTimeField()),
        Coalesce("reactivated_at", "date_joined", output_field=DateTimeField()),
        output_field=DateTimeField(),
    )


def dormant_accounts(now: datetime | None = None) -> QuerySet[User]:
    """Active, activated, non-staff accounts unused for DORMANT_ACCOUNT_DAYS, not yet warned."""
    now = now or timezone.now()
    return (
        User.objects.filter(
            is_active=True,
            is_staff=False,
            email_verified_at__isnull=False,
            dormancy_warned_at__isnull=True,
        )
        .alias(used_at=last_use())
        .filter(used_at__lt=now - _days("DORMANT_ACCOUNT_DAYS"))
    )


def _still_dormant(user: User, now: datetime) -> bool:
    used = max(
        user.last_login or user.email_verified_at or user.date_joined,
        user.reactivated_at or user.date_joined,
    )
    return (
        user.is_active
        and not user.is_staff
        and user.email_verified_at is not None
        and used < now - _days("DORMANT_ACCOUNT_DAYS")
    )


def _login_url() -> str:
    return settings.PORTAL_BASE_URL + reverse("home")


# --- 1. the warning -----------------------------------------------------------------------------


def warn(user: User, *, now: datetime | None = None) -> bool:
    """Email the owner of a dormant account, once; False when it is not (or no longer) due."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        if locked.dormancy_warned_at is not None or not _still_dormant(locked, now):
            return False
        locked.dormancy_warned_at = now
        locked.save(update_fields=["dormancy_warned_at"])
        deadline = now + _days("DORMANT_ACCOUNT_NOTICE_DAYS")
        send_email(
            "accounts/emails/dormancy_warning",
            locked.email,
            {
                "user": locked,
                "months": round(int(settings.DORMANT_ACCOUNT_DAYS) / 30.4),
                "deadline": deadline,
                "login_link": _login_url(),
            },
            category=EMAIL_CATEGORY,
        )
        record(
            "account.dormancy_warned",
            target=locked,
            data={"deactivation_on": deadline.date().isoformat()},
        )
    logger.info("Account %s warned of its dormancy", locked.pk)
    return True


def warn_dormant_accounts() -> int:
    """Housekeeping: warn the owners of accounts unused for DORMANT_ACCOUNT_DAYS."""
    now = timezone.now()
    return sum(warn(user, now=now) for user in dormant_accounts(now).order_by("pk")[:BATCH])


def clear_warning_at_login(sender: type[Any], request: Any, user: Any, **kwargs: Any) -> None:
    """A login clears a dormancy warning (no query when there is none: the user row is read)."""
    if not isinstance(user, User) or (
        user.dormancy_warned_at is None and user.dormancy_agents_warned_at is None
    ):
        return
    User.objects.filter(pk=user.pk).update(dormancy_warned_at=None, dormancy_agents_warned_at=None)
    user.dormancy_warned_at = user.dormancy_agents_warned_at = None
    context = context_of(request) if isinstance(request, HttpRequest) else SYSTEM
    record("account.dormancy_cleared", actor=user, target=user, context=context)


user_logged_in.connect(clear_warning_at_login, dispatch_uid="portail.accounts.dormancy")


# --- 2. the deactivation ------------------------------------------------------------------------


def deactivate_if_due(user: User, *, now: datetime | None = None) -> str:
    """The step due for a warned account: "deactivated", "agents_warned", or "" (nothing yet)."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        warned = locked.dormancy_warned_at
        if warned is None or warned > now - _days("DORMANT_ACCOUNT_NOTICE_DAYS"):
            return ""
        if not _still_dormant(locked, now) or (locked.last_login or warned) > warned:
            return ""
        lock_gestionnaires_around(locked)  # two gestionnaires of one site never leave at once
        alone = sole_gestionnaire_of(locked)
        if alone:
            agents_warned = locked.dormancy_agents_warned_at
            if agents_warned is None:
                _warn_agents(locked, alone, now)
                return "agents_warned"
            if agents_warned > now - _days("DORMANT_ACCOUNT_AGENTS_NOTICE_DAYS"):
                return ""
        _deactivate(locked, now, sole_gestionnaire=bool(alone))
        return "deactivated"


def _warn_agents(user: User, alone: list[Any], now: datetime) -> None:
    deactivation_on = now + _days("DORMANT_ACCOUNT_AGENTS_NOTICE_DAYS")
    answers = dormant_sole_gestionnaire.send(
        sender=User, user=user, habilitations=alone, deactivation_on=deactivation_on
    )
    agents = sum(int(answer or 0) for _, answer in answers)
    user.dormancy_agents_warned_at = now
    user.save(update_fields=["dormancy_agents_warned_at"])
    record(
        "account.dormancy_agents_warned",
        target=user,
        data={
            "agents": agents,
            "habilitations": [habilitation.pk for habilitation in alone],
            "deactivation_on": deactivation_on.date().isoformat(),
        },
    )
    logger.info(
        "Account %s is the last gestionnaire somewhere: %d agent(s) warned", user.pk, agents
    )


def _deactivate(user: User, now: datetime, *, sole_gestionnaire: bool) -> None:
    user.is_active = False
    user.deactivated_at = now
    user.dormancy_warned_at = None
    user.dormancy_agents_warned_at = None
    user.save(
        update_fields=[
            "is_active",
            "deactivated_at",
            "dormancy_warned_at",
            "dormancy_agents_warned_at",
        ]
    )
    ended = _end_sessions(user)
    _burn_tokens(user, AccountToken.Purpose.REACTIVATION, now)
    token = _issue_token(user, AccountToken.Purpose.REACTIVATION, REACTIVATION_VALIDITY)
    send_email(
        "accounts/emails/deactivated",
        user.email,
        {
            "user": user,
            "link": _link(AccountToken.Purpose.REACTIVATION, token),
            "days": REACTIVATION_VALIDITY.days,
            "login_link": _login_url(),
        },
        category=EMAIL_CATEGORY,
    )
    record(
        "account.deactivated_dormant",
        target=user,
        data={"sessions_ended": ended, "sole_gestionnaire": sole_gestionnaire},
    )
    logger.info("Account %s deactivated for dormancy", user.pk)


def _end_sessions(user: User) -> int:
    """Every session of the account ends: the apps above hear it first (tokens revoked, logout
    tokens queued for the démarches), then the session rows go."""
    rows = list(UserSession.objects.filter(user=user).values_list("pk", "session_id"))
    if rows:
        session_ending.send(sender=UserSession, user_sessions=[pk for pk, _ in rows])
        Session.objects.filter(session_key__in=[key for _, key in rows]).delete()
    return len(rows)


def deactivate_dormant_accounts() -> int:
    """Housekeeping: the warned accounts whose notice ran out (and the agents' warnings due)."""
    now = timezone.now()
    due = User.objects.filter(
        is_active=True,
        dormancy_warned_at__lte=now - _days("DORMANT_ACCOUNT_NOTICE_DAYS"),
    ).order_by("pk")[:BATCH]
    return sum(bool(deactivate_if_due(user, now=now)) for user in due)


# --- 3. the reactivation ------------------------------------------------------------------------


def find_reactivation_token(token: str, *, lock: bool = False) -> AccountToken:
    """The live reactivation link, or TokenError. Only an account deactivated for dormancy."""
    if not token or len(token) > 128:
        raise TokenError("unknown")
    purpose = AccountToken.Purpose.REACTIVATION
    queryset = AccountToken.objects.of_purpose(purpose).select_related("user")
    if lock:
        queryset = queryset.select_for_update(of=("self",))
    found = queryset.filter(token_hash=_token_hash(token, purpose)).first()
    if found is None:
        raise TokenError("unknown")
    if found.is_used or found.user.deactivated_at is None:  # reactivated meanwhile
        raise TokenError("used", found)
    if found.is_expired():
        raise TokenError("expired", found)
    return found


def reactivate(token: str, *, context: Context = SYSTEM) -> User:
    """Use a reactivation link: the account is active again, its dormancy forgotten."""
    with transaction.atomic():
        found = find_reactivation_token(token, lock=True)
        user = User.objects.select_for_update().get(pk=found.user.pk)
        now = timezone.now()
        _burn_tokens(user, AccountToken.Purpose.REACTIVATION, now)
        user.is_active = True
        user.deactivated_at = None
        user.reactivated_at = now
        user.save(update_fields=["is_active", "deactivated_at", "reactivated_at"])
        record("account.reactivated", actor=user, target=user, context=context)
    logger.info("Account %s reactivated", user.pk)
    return user


@sensitive_variables("password")
def deactivated_account_for(email: str, password: str) -> User | None:
    """The account deactivated for dormancy that `password` opens, or None. Costs one password
    hash whatever the answer (the login already spent one): the time tells nothing."""
    user = User.objects.filter(
        email__iexact=User.objects.normalize_email(email),
        is_active=False,
        deactivated_at__isnull=False,
    ).first()
    if user is None:
        make_password(password)
        return None
    return user if user.check_password(password) else None


def send_reactivation_link(user: User, *, context: Context = SYSTEM) -> None:
    """A fresh reactivation link to a deactivated account (its owner typed the right password)."""
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        if locked.is_active or locked.deactivated_at is None:
            return
        now = timezone.now()
        _burn_tokens(locked, AccountToken.Purpose.REACTIVATION, now)
        token = _issue_token(locked, AccountToken.Purpose.REACTIVATION, REACTIVATION_VALIDITY)
        send_email(
            "accounts/emails/reactivation",
            locked.email,
            {
                "user": locked,
                "link": _link(AccountToken.Purpose.REACTIVATION, token),
                "days": REACTIVATION_VALIDITY.days,
            },
            category=EMAIL_CATEGORY,
        )
        record("account.reactivation_sent", target=locked, context=context)
