"""Habilitations (who may act in which démarche, for which establishment, with which role),
invitations and access requests."""

from datetime import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Length
from django.db.models.lookups import LessThanOrEqual
from django.utils import timezone

from portail.companies.models import Establishment
from portail.demarches.models import Demarche

# A requester's message to the gestionnaires, and the reason of their answer: forms and the
# database hold them to the same bound.
MESSAGE_MAX_LENGTH = 1000


class HabilitationQuerySet(models.QuerySet["Habilitation"]):
    def live(self, now: datetime | None = None) -> "HabilitationQuerySet":
        """Not revoked, not ended: suspended ones included (they may be resumed)."""
        now = now or timezone.now()
        return self.filter(revoked_at__isnull=True).filter(
            Q(ends_at__isnull=True) | Q(ends_at__gt=now)
        )

    def active(self, now: datetime | None = None) -> "HabilitationQuerySet":
        """What gives access: live and not suspended."""
        return self.live(now).filter(suspended_at__isnull=True)

    def suspended(self, now: datetime | None = None) -> "HabilitationQuerySet":
        return self.live(now).filter(suspended_at__isnull=False)

    def for_demarche(self, demarche: Demarche) -> "HabilitationQuerySet":
        return self.filter(demarche=demarche)

    def for_establishment(self, establishment: Establishment) -> "HabilitationQuerySet":
        return self.filter(establishment=establishment)

    def managing(self) -> "HabilitationQuerySet":
        return self.filter(role__can_manage=True)


class Habilitation(models.Model):
    class Origin(models.TextChoices):
        ACTIVATION_CODE = "activation_code", "Code d’activation"
        INVITATION = "invitation", "Invitation"
        ACCESS_REQUEST = "access_request", "Demande d’accès"
        DELEGATION = "delegation", "Délégation"
        AGENT = "agent", "Agent du ministère"

    class Suspension(models.TextChoices):
        """Why a live habilitation gives no access for now (the person is shown the label)."""

        REVIEW_OVERDUE = "review_overdue", "Accès non confirmé lors de la revue des accès"
        ESTABLISHMENT_CLOSED = "establishment_closed", "Établissement fermé (répertoire Sirene)"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="habilitations"
    )
    demarche = models.ForeignKey(
        "demarches.Demarche", on_delete=models.PROTECT, related_name="habilitations"
    )
    establishment = models.ForeignKey(
        "companies.Establishment", on_delete=models.PROTECT, related_name="habilitations"
    )
    role = models.ForeignKey(
        "demarches.Role", on_delete=models.PROTECT, related_name="habilitations"
    )
    origin = models.CharField(max_length=20, choices=Origin.choices)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    granted_at = models.DateTimeField(default=timezone.now)
    ends_at = models.DateTimeField(null=True, blank=True, help_text="Fin d’une délégation.")
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoke_reason = models.CharField(max_length=255, blank=True)
    # A suspended habilitation stays live (it may be resumed) but gives no access: `active()`
    # leaves it out, the claims list it apart with its reason.
    suspended_at = models.DateTimeField(null=True, blank=True)
    suspension_reason = models.CharField(max_length=32, choices=Suspension.choices, blank=True)

    objects = HabilitationQuerySet.as_manager()

    # Set on the rows a page lists, never stored: the back-office's support page (is it in the
    # agent's regions?).
    in_scope: bool

    class Meta:
        ordering = ["-granted_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "establishment", "role"],
                condition=Q(revoked_at__isnull=True),
                name="one_live_habilitation_per_role",
            )
        ]
        indexes = [
            # The live habilitations of a démarche on some establishments, grouped and counted by
            # role on the management page, and each role's window of its page of people: both
            # answered from this partial index alone (every column they read, `suspended_at`
            # included: SQLite then reads no row of the table before the page's 20). After the
            # role, the window's order (`granted_at`, then `id`): each establishment's entries
            # come most recent first, so a window stops after its rows instead of sorting them all.
            models.Index(
                fields=[
                    "demarche",
                    "establishment",
                    "role",
                    "granted_at",
                    "id",
                    "user",
                    "ends_at",
                    "origin",
                    "suspended_at",
                    "revoked_at",
                ],
                condition=Q(revoked_at__isnull=True),
                name="live_habilitation_cover",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.role} — {self.establishment.siret}"

    @property
    def is_delegation(self) -> bool:
        return self.origin == self.Origin.DELEGATION

    @property
    def is_suspended(self) -> bool:
        return self.suspended_at is not None


class InvitationQuerySet(models.QuerySet["Invitation"]):
    def pending(self, now: datetime | None = None) -> "InvitationQuerySet":
        now = now or timezone.now()
        return self.filter(
            accepted_at__isnull=True,
            refused_at__isnull=True,
            cancelled_at__isnull=True,
            expires_at__gt=now,
        )

    def expired(self, now: datetime | None = None) -> "InvitationQuerySet":
        now = now or timezone.now()
        return self.filter(
            accepted_at__isnull=True,
            refused_at__isnull=True,
            cancelled_at__isnull=True,
            expires_at__lte=now,
        )

    def open(self) -> "InvitationQuerySet":
        """Neither accepted, refused nor cancelled (expired ones included): what the
        one-open-invitation constraint covers."""
        return self.filter(
            accepted_at__isnull=True, refused_at__isnull=True, cancelled_at__isnull=True
        )

    def for_demarche(self, demarche: Demarche) -> "InvitationQuerySet":
        return self.filter(demarche=demarche)


class Invitation(models.Model):
    class Kind(models.TextChoices):
        COLLEAGUE = "colleague", "Collaborateur de l’entreprise"
        THIRD_PARTY = "third_party", "Tiers délégataire"

    demarche = models.ForeignKey("demarches.Demarche", on_delete=models.PROTECT, related_name="+")
    establishment = models.ForeignKey(
        "companies.Establishment", on_delete=models.PROTECT, related_name="+"
    )
    role = models.ForeignKey("demarches.Role", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.COLLEAGUE)
    invited_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="invitations",
    )
    email = models.EmailField(max_length=254, db_index=True)
    token_hash = models.CharField(max_length=64, unique=True)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    sent_at = models.DateTimeField(default=timezone.now)
    last_sent_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    delegation_ends_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    refused_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    habilitation = models.ForeignKey(
        Habilitation, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The form's one-time key: a second "CONTINUER" with the same key finds this invitation.
    submission_key = models.UUIDField(null=True, blank=True, unique=True, editable=False)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        ordering = ["-sent_at"]
        constraints = [
            # One open invitation per person, establishment and role: a double submission or a
            # second gestionnaire inviting the same person at the same moment makes one row.
            models.UniqueConstraint(
                fields=["email", "establishment", "role"],
                condition=Q(
                    accepted_at__isnull=True, refused_at__isnull=True, cancelled_at__isnull=True
                ),
                name="one_open_invitation",
            )
        ]
        indexes = [models.Index(fields=["demarche", "establishment", "-sent_at"])]

    def __str__(self) -> str:
        return f"{self.email} — {self.role} — {self.establishment.siret}"

    @property
    def is_delegation(self) -> bool:
        return self.kind == self.Kind.THIRD_PARTY

    def is_expired(self, now: datetime | None = None) -> bool:
        return self.expires_at <= (now or timezone.now())


class AccessRequestQuerySet(models.QuerySet["AccessRequest"]):
    def pending(self, now: datetime | None = None) -> "AccessRequestQuerySet":
        now = now or timezone.now()
        return self.filter(status=AccessRequest.Status.PENDING, expires_at__gt=now)


class AccessRequest(models.Model):
    """ "DEMANDER L'ACCÈS À UN GESTIONNAIRE": a person asks the gestionnaires of an establishment."""

    class Status(models.TextChoices):
        PENDING = "pending", "En attente"
        ACCEPTED = "accepted", "Acceptée"
        REFUSED = "refused", "Refusée"
        CANCELLED = "cancelled", "Annulée"
        EXPIRED = "expired", "Expirée"

    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="access_requests"
    )
    demarche = models.ForeignKey("demarches.Demarche", on_delete=models.PROTECT, related_name="+")
    establishment = models.ForeignKey(
        "companies.Establishment", on_delete=models.PROTECT, related_name="+"
    )
    role = models.ForeignKey("demarches.Role", on_delete=models.PROTECT, related_name="+")
    message = models.TextField(blank=True, max_length=MESSAGE_MAX_LENGTH)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.TextField(blank=True, max_length=MESSAGE_MAX_LENGTH)
    granted_role = models.ForeignKey(
        "demarches.Role", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    objects = AccessRequestQuerySet.as_manager()

    # Set on the rows the management page lists, never stored: where its answers are posted.
    accept_url: str
    refuse_url: str

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["requester", "demarche", "establishment"],
                condition=Q(status="pending"),
                name="one_pending_access_request",
            ),
            models.CheckConstraint(
                condition=LessThanOrEqual(Length("message"), MESSAGE_MAX_LENGTH),
                name="access_request_message_length",
            ),
            models.CheckConstraint(
                condition=LessThanOrEqual(Length("decision_reason"), MESSAGE_MAX_LENGTH),
                name="access_request_decision_reason_length",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.requester} → {self.demarche} / {self.establishment.siret}"


class HabilitationFeed(models.Model):
    """A démarche's feed of habilitation changes: its last sequence number.

    The row is locked (select_for_update) to number the next change and stays locked until the
    change commits, so the changes of a démarche commit in the order of their numbers: a reader
    that saw n never later finds a smaller one (docs/decisions/0019).
    """

    demarche = models.OneToOneField(
        "demarches.Demarche", on_delete=models.PROTECT, related_name="+"
    )
    last_sequence = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.demarche} — {self.last_sequence}"


class HabilitationChangeQuerySet(models.QuerySet["HabilitationChange"]):
    def after(self, demarche_id: int, sequence: int) -> "HabilitationChangeQuerySet":
        return self.filter(demarche_id=demarche_id, sequence__gt=sequence).order_by("sequence")


class HabilitationChange(models.Model):
    """One event of a démarche's feed: a person's roles on an establishment changed.

    Written in the transaction of the change (portail.habilitations.feed). `roles_before` and
    `roles_after` are the codes of the person's live roles there, for this démarche.
    """

    class Kind(models.TextChoices):
        GRANTED = "granted", "Habilitation accordée"
        ROLE_CHANGED = "role_changed", "Rôles modifiés"
        REVOKED = "revoked", "Habilitation retirée"
        DELEGATION_EXPIRED = "delegation_expired", "Fin de délégation"
        ESTABLISHMENT_CLOSED = "establishment_closed", "Fin de l’établissement"
        SUSPENDED = "suspended", "Habilitation suspendue"
        RESUMED = "resumed", "Habilitation rétablie"

    demarche = models.ForeignKey("demarches.Demarche", on_delete=models.PROTECT, related_name="+")
    sequence = models.PositiveBigIntegerField()
    kind = models.CharField(max_length=24, choices=Kind.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    siret = models.CharField(max_length=14)
    roles_before = models.JSONField(default=list)
    roles_after = models.JSONField(default=list)
    occurred_at = models.DateTimeField(default=timezone.now)

    objects = HabilitationChangeQuerySet.as_manager()

    class Meta:
        ordering = ["demarche", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["demarche", "sequence"], name="one_change_per_sequence")
        ]

    def __str__(self) -> str:
        return f"{self.demarche_id} #{self.sequence} {self.kind} {self.siret}"


class AccessReviewQuerySet(models.QuerySet["AccessReview"]):
    def open(self) -> "AccessReviewQuerySet":
        """Not closed: answered in part or not at all, before or after its deadline."""
        return self.filter(closed_at__isnull=True)

    def late(self, now: datetime | None = None) -> "AccessReviewQuerySet":
        """Open, and its deadline passed without the gestionnaires confirming."""
        return self.filter(
            completed_at__isnull=True, closed_at__isnull=True, deadline__lte=now or timezone.now()
        )

    def for_demarche(self, demarche: Demarche) -> "AccessReviewQuerySet":
        return self.filter(demarche=demarche)


class AccessReview(models.Model):
    """The periodic access review of a company (a SIREN) for a démarche: its gestionnaires
    confirm or remove, person by person or all at once, the habilitations of their perimeter
    (portail.habilitations.access_review; decision 0021).

    `establishment` is where the review is filed (the gestionnaires' establishment: the
    history of its messages, the journal). Open until `closed_at`: confirmed by the
    gestionnaires (`completed_at`), or ended by the system `ACCESS_REVIEW_GRACE_DAYS` after the
    deadline, the unconfirmed accesses suspended at the deadline (`lapsed_at`) then ended."""

    demarche = models.ForeignKey("demarches.Demarche", on_delete=models.PROTECT, related_name="+")
    siren = models.CharField(max_length=9)
    establishment = models.ForeignKey(
        "companies.Establishment", on_delete=models.PROTECT, related_name="+"
    )
    opened_at = models.DateTimeField(default=timezone.now)
    deadline = models.DateTimeField()
    # The last reminder sent, in days before the deadline (the opening counts as the first).
    reminded_days = models.PositiveSmallIntegerField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    lapsed_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    objects = AccessReviewQuerySet.as_manager()

    class Meta:
        ordering = ["-opened_at"]
        constraints = [
            # One open review per company and démarche: the nightly job run twice at once
            # opens one.
            models.UniqueConstraint(
                fields=["demarche", "siren"],
                condition=Q(closed_at__isnull=True),
                name="one_open_access_review",
            )
        ]
        indexes = [
            models.Index(fields=["demarche", "siren", "-opened_at"]),
            models.Index(
                fields=["deadline"],
                condition=Q(closed_at__isnull=True),
                name="open_review_deadline",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.demarche_id} {self.siren} {self.opened_at:%Y-%m-%d}"

    def is_overdue(self, now: datetime | None = None) -> bool:
        return self.deadline <= (now or timezone.now())


class AccessReviewItem(models.Model):
    """One habilitation of a review, and the decision taken on it."""

    class Decision(models.TextChoices):
        PENDING = "pending", "À confirmer"
        CONFIRMED = "confirmed", "Confirmé"
        REMOVED = "removed", "Retiré"
        ENDED = "ended", "Terminé faute de confirmation"

    review = models.ForeignKey(AccessReview, on_delete=models.CASCADE, related_name="items")
    habilitation = models.ForeignKey(Habilitation, on_delete=models.CASCADE, related_name="+")
    decision = models.CharField(max_length=16, choices=Decision.choices, default=Decision.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["review", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["review", "habilitation"], name="one_item_per_habilitation"
            )
        ]
        indexes = [models.Index(fields=["habilitation", "decision"])]

    def __str__(self) -> str:
        return f"{self.review_id} {self.habilitation_id} {self.decision}"
