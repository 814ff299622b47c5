""" "Mes données": everything the portal holds about a person, for them to download.

`export_of(user)` reads (it changes nothing) and returns plain data — strings, numbers, lists,
dicts — that the view writes as JSON and the HTML page shows section by section:

- the account's fields; never the password hash, a token, a key or a recovery code: a password
  or a second factor is said "configuré", with its dates;
- the habilitations, live and past, each with its history (the journal's events about it);
- the invitations received and sent, the access requests made;
- the sessions open and the browsers known;
- the journal's events where the person acts or is the subject;
- the emails the outbox sent to the person's addresses, while each was theirs, links that carry
  a token replaced by "[lien masqué]".

Nothing of anyone else (docs/retention.md): another person is never named. An event done by
someone else says "une autre personne" (or "le système") without its address; an event the
person did to another person's habilitation or invitation keeps its action and date but not the
other person's label; an email address that is not one of the person's own is masked
(`a•••@exemple.fr`) wherever it appears — the journal's data, invitations sent, email subjects
and bodies; the full name of another account that acted on the person's things (who invited,
granted, revoked, answered, or acted in an event listed) becomes "[autre personne]" in the same
places. The IP address of an event is given only when the person acted.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from portail.accounts.models import KnownBrowser, Passkey, RecoveryCode, User, UserSession
from portail.audit.models import AuditEvent
from portail.companies.models import Establishment
from portail.demarches.models import Demarche
from portail.habilitations.models import AccessRequest, Habilitation, Invitation
from portail.notifications.models import OutboxEmail

MASKED_LINK = "[lien masqué]"
CONFIGURED = "configuré"
OTHER_PERSON = "une autre personne"
SYSTEM_ACTOR = "le système (ou une personne non connectée)"
YOU = "vous"
OTHER_NAME = "[autre personne]"
NOT_GIVEN = "non communiqué (il concerne une autre personne ou le ministère)"

_EMAIL = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
# A URL carrying a token: a piece of 20 URL-safe characters or more (our links carry 43), or the
# mark the worker leaves once it has scrubbed a sent email's personal links.
_URL = re.compile(r"https?://[^\s\"'<>]+")
_TOKENISH = re.compile(r"[A-Za-z0-9_-]{20,}|lien-personnel-masqu")

_HABILITATION = "habilitations.habilitation"
_INVITATION = "habilitations.invitation"
_ACCESS_REQUEST = "habilitations.accessrequest"
_ACCOUNT = "accounts.user"


def _when(value: datetime | None) -> str | None:
    return timezone.localtime(value).isoformat(timespec="seconds") if value else None


def mask_address(address: str) -> str:
    """a•••@exemple.fr: enough to recognise one's own colleague, not to write to them."""
    local, _, domain = address.partition("@")
    return f"{local[:1]}•••@{domain}"


@dataclass(frozen=True)
class _Masker:
    """Masks what is not the person's: others' email addresses, links with a token, the names of
    the other people who acted on the person's account, habilitations, invitations, requests."""

    own: frozenset[str]
    others: re.Pattern[str] | None = None

    def address(self, match: re.Match[str]) -> str:
        found = match.group(0)
        return found if found.lower() in self.own else mask_address(found)

    def link(self, match: re.Match[str]) -> str:
        url = match.group(0)
        return MASKED_LINK if _TOKENISH.search(url) else url

    def text(self, value: str) -> str:
        value = _EMAIL.sub(self.address, _URL.sub(self.link, value))
        return self.others.sub(OTHER_NAME, value) if self.others is not None else value

    def data(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.data(item) for item in value]
        if isinstance(value, dict):
            return {key: self.data(item) for key, item in value.items()}
        return value


def _addresses(user: User) -> list[tuple[str, datetime | None, datetime | None]]:
    """The person's addresses with the time each was theirs: (address, from, until)."""
    changes = (
        AuditEvent.objects.filter(
            action="account.email_changed", target_type=_ACCOUNT, target_id=str(user.pk)
        )
        .order_by("at", "pk")
        .values_list("at", "data")
    )
    periods: list[tuple[str, datetime | None, datetime | None]] = []
    start: datetime | None = user.date_joined
    for at, data in changes:
        old = str((data or {}).get("old_email", "")).lower()
        if old:
            periods.append((old, start, at))
        start = at
    periods.append((user.email.lower(), start, None))
    return periods


def _names_pattern(user: User, ids: set[int | None]) -> re.Pattern[str] | None:
    """The full names of these other accounts, as one pattern (longest first)."""
    wanted = {pk for pk in ids if pk is not None and pk != user.pk}
    names = {
        " ".join(f"{first} {last}".split())
        for first, last in User.objects.filter(pk__in=wanted).values_list("first_name", "last_name")
    }
    names.discard(" ".join(user.get_full_name().split()))
    names = {name for name in names if len(name) > 3}
    if not names:
        return None
    ordered = sorted(names, key=len, reverse=True)
    return re.compile("|".join(re.escape(name) for name in ordered), re.IGNORECASE)


def _demarche_names(ids: Iterable[int | None]) -> dict[int, str]:
    wanted = {pk for pk in ids if pk is not None}
    return {
        pk: f"{short} — {long}"
        for pk, short, long in Demarche.objects.filter(pk__in=wanted).values_list(
            "pk", "short_label", "long_name"
        )
    }


def _establishment_names(ids: Iterable[int | None]) -> dict[int, str]:
    wanted = {pk for pk in ids if pk is not None}
    return {
        pk: f"{name} (SIRET {siret})"
        for pk, name, siret in Establishment.objects.filter(pk__in=wanted).values_list(
            "pk", "name", "siret"
        )
    }


def _account(user: User) -> dict[str, Any]:
    factors = {
        "applications_d_authentification": [
            {"nom": device.name, "etat": CONFIGURED, "ajoutee_le": _when(device.created_at)}
            | {"derniere_utilisation": _when(device.last_used_at)}
            for device in TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk")
        ],
        "cles_d_acces": [
            {
                "nom": key.name,
                "etat": CONFIGURED,
                "ajoutee_le": _when(key.created_at),
                "derniere_utilisation": _when(key.last_used_at),
            }
            for key in Passkey.objects.filter(user=user).order_by("pk")
        ],
        "codes_de_secours_restants": RecoveryCode.objects.filter(
            user=user, used_at__isnull=True
        ).count(),
    }
    password_set = (
        AuditEvent.objects.filter(
            target_type=_ACCOUNT,
            target_id=str(user.pk),
            action__in=["account.password_changed", "account.password_reset"],
        )
        .order_by("-at")
        .values_list("at", flat=True)
        .first()
    )
    return {
        "identifiant": str(user.public_id),
        "adresse_electronique": user.email,
        "civilite": user.get_civilite_display(),
        "nom": user.last_name,
        "prenom": user.first_name,
        "telephone": user.phone,
        "type_de_compte": user.get_account_type_display(),
        "etablissement_declare": {
            "siret": user.declared_siret,
            "raison_sociale": user.declared_company_name,
            "adresse": user.declared_address,
            "commune": user.declared_commune,
            "verifie_dans_le_repertoire": user.establishment_verified,
        }
        if user.declared_siret
        else None,
        "cree_le": _when(user.date_joined),
        "adresse_verifiee_le": _when(user.email_verified_at),
        "derniere_connexion": _when(user.last_login),
        "actif": user.is_active,
        "mot_de_passe": (
            f"{CONFIGURED} le {timezone.localtime(password_set):%d/%m/%Y}"
            if password_set
            else f"{CONFIGURED} à la création du compte"
        )
        if user.has_usable_password()
        else "aucun",
        "double_authentification": factors,
        "inactivite": {
            "averti_le": _when(user.dormancy_warned_at),
            "reactive_le": _when(user.reactivated_at),
        },
    }


def _actor(event: AuditEvent, user: User) -> str:
    if event.actor_id == user.pk:
        return YOU
    return SYSTEM_ACTOR if event.actor_id is None and not event.actor_label else OTHER_PERSON


def _event(
    event: AuditEvent,
    user: User,
    *,
    own_targets: set[tuple[str, str]],
    masker: _Masker,
    demarches: dict[int, str],
    establishments: dict[int, str],
) -> dict[str, Any]:
    own = (event.target_type, event.target_id) in own_targets
    line: dict[str, Any] = {
        "date": _when(event.at),
        "action": event.action_label,
        "code": event.action,
        "par": _actor(event, user),
        "objet": (masker.text(event.target_label) if own else NOT_GIVEN)
        if event.target_type
        else None,
        "demarche": demarches.get(event.demarche_id) if event.demarche_id else None,
        "etablissement": establishments.get(event.establishment_id)
        if event.establishment_id
        else None,
        "details": masker.data(event.data or {}),
        "adresse_ip": event.ip if event.actor_id == user.pk and event.ip else None,
    }
    return line


def _invitation(invitation: Invitation, masker: _Masker, now: datetime) -> dict[str, Any]:
    if invitation.accepted_at:
        status = "acceptée"
    elif invitation.refused_at:
        status = "refusée"
    elif invitation.cancelled_at:
        status = "annulée"
    elif invitation.is_expired(now):
        status = "expirée"
    else:
        status = "en attente"
    return {
        "demarche": str(invitation.demarche),
        "etablissement": f"{invitation.establishment.name} (SIRET {invitation.establishment.siret})",
        "role": str(invitation.role),
        "type": invitation.get_kind_display(),
        "adresse_invitee": masker.text(invitation.email),
        "envoyee_le": _when(invitation.sent_at),
        "expire_le": _when(invitation.expires_at),
        "fin_de_delegation": _when(invitation.delegation_ends_at),
        "etat": status,
    }


def export_of(user: User) -> dict[str, Any]:
    """Everything the portal holds about `user`, and nothing about anyone else."""
    now = timezone.now()
    periods = _addresses(user)

    habilitations = list(
        Habilitation.objects.filter(user=user)
        .select_related("demarche", "establishment", "role")
        .order_by("-granted_at", "-pk")
    )
    received = list(
        Invitation.objects.filter(
            Q(invited_user=user)
            | Q(accepted_by=user)
            | Q(email__iexact=user.email, sent_at__gte=user.date_joined)
        )
        .select_related("demarche", "establishment", "role")
        .distinct()
        .order_by("-sent_at", "-pk")
    )
    sent = list(
        Invitation.objects.filter(sent_by=user)
        .select_related("demarche", "establishment", "role")
        .order_by("-sent_at", "-pk")
    )
    requests = list(
        AccessRequest.objects.filter(requester=user)
        .select_related("demarche", "establishment", "role", "granted_role")
        .order_by("-created_at", "-pk")
    )
    own_targets = {(_ACCOUNT, str(user.pk))}
    own_targets |= {(_HABILITATION, str(h.pk)) for h in habilitations}
    own_targets |= {(_INVITATION, str(i.pk)) for i in received}
    own_targets |= {(_ACCESS_REQUEST, str(r.pk)) for r in requests}
    about = Q(actor=user)
    for target_type in (_ACCOUNT, _HABILITATION, _INVITATION, _ACCESS_REQUEST):
        ids = [target_id for kind, target_id in own_targets if kind == target_type]
        if ids:
            about |= Q(target_type=target_type, target_id__in=ids)
    events = list(AuditEvent.objects.filter(about).order_by("at", "pk"))
    others: set[int | None] = {event.actor_id for event in events}
    others |= {h.granted_by_id for h in habilitations} | {h.revoked_by_id for h in habilitations}
    others |= {i.sent_by_id for i in received} | {i.cancelled_by_id for i in received}
    others |= {i.invited_user_id for i in sent} | {i.accepted_by_id for i in sent}
    others |= {r.decided_by_id for r in requests}
    masker = _Masker(
        own=frozenset(address for address, _, _ in periods),
        others=_names_pattern(user, others),
    )
    demarches = _demarche_names(event.demarche_id for event in events)
    establishments = _establishment_names(event.establishment_id for event in events)
    lines = {
        event.pk: _event(
            event,
            user,
            own_targets=own_targets,
            masker=masker,
            demarches=demarches,
            establishments=establishments,
        )
        for event in events
    }
    history: dict[str, list[dict[str, Any]]] = {}
    for event in events:
        if event.target_type == _HABILITATION:
            history.setdefault(event.target_id, []).append(lines[event.pk])

    emails = Q()
    for address, start, until in periods:
        period = Q(recipient__iexact=address)
        if start is not None:
            period &= Q(created_at__gte=start)
        if until is not None:
            period &= Q(created_at__lte=until)
        emails |= period

    return {
        "export": {
            "genere_le": _when(now),
            "portail": settings.SERVICE_NAME,
            "note": (
                "Les liens personnels des courriels sont remplacés par « [lien masqué] » ; "
                "les adresses électroniques d’autres personnes sont masquées."
            ),
        },
        "compte": _account(user),
        "habilitations": [
            {
                "demarche": f"{h.demarche.short_label} — {h.demarche.long_name}",
                "etablissement": f"{h.establishment.name} (SIRET {h.establishment.siret})",
                "role": str(h.role),
                "origine": h.get_origin_display(),
                "accordee_le": _when(h.granted_at),
                "fin_prevue_le": _when(h.ends_at),
                "revoquee_le": _when(h.revoked_at),
                "motif_de_revocation": masker.text(h.revoke_reason),
                "en_cours": h.revoked_at is None and (h.ends_at is None or h.ends_at > now),
                "historique": history.get(str(h.pk), []),
            }
            for h in habilitations
        ],
        "invitations_recues": [_invitation(i, masker, now) for i in received],
        "invitations_envoyees": [_invitation(i, masker, now) for i in sent],
        "demandes_d_acces": [
            {
                "demarche": str(r.demarche),
                "etablissement": f"{r.establishment.name} (SIRET {r.establishment.siret})",
                "role": str(r.role),
                "message": masker.text(r.message),
                "etat": r.get_status_display(),
                "envoyee_le": _when(r.created_at),
                "expire_le": _when(r.expires_at),
                "decidee_le": _when(r.decided_at),
                "motif": masker.text(r.decision_reason),
                "role_accorde": str(r.granted_role) if r.granted_role else None,
            }
            for r in requests
        ],
        "sessions": [
            {
                "navigateur": s.browser,
                "systeme": s.system,
                "adresse_ip_masquee": s.ip_masked,
                "ouverte_le": _when(s.started_at),
                "derniere_activite": _when(s.last_seen_at),
            }
            for s in UserSession.objects.filter(user=user).order_by("-last_seen_at")
        ],
        "navigateurs_connus": [
            {
                "navigateur": b.browser,
                "systeme": b.system,
                "premiere_connexion": _when(b.first_seen_at),
                "derniere_connexion": _when(b.last_seen_at),
            }
            for b in KnownBrowser.objects.filter(user=user).order_by("-last_seen_at")
        ],
        "journal": [lines[event.pk] for event in events],
        "courriels": [
            {
                "date": _when(email.created_at),
                "destinataire": email.recipient,
                "objet": masker.text(email.subject),
                "etat": email.get_status_display(),
                "envoye_le": _when(email.sent_at),
                "texte": masker.text(email.body_text)
                if email.body_text
                else "(contenu effacé après la durée de conservation)",
            }
            for email in OutboxEmail.objects.filter(emails).order_by("created_at", "pk")
        ],
    }
