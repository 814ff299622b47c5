"""The agents' side: agents (who look after regions), letters and their batches.

Regions, centres agréés and their sites liés are the perimeter of habilitations: they live in
`portail.centres`.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone

from portail.centres.models import Centre, Region


class AgentProfile(models.Model):
    """Makes a portal user a ministry agent. Created only by an administrator, never by a form."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="agent_profile"
    )
    regions = models.ManyToManyField(Region, blank=True, related_name="agents")
    is_national = models.BooleanField(default=False, help_text="Voit toutes les régions.")

    def __str__(self) -> str:
        return str(self.user)


class LetterBatch(models.Model):
    """Letters generated together: one PDF (never stored: it holds the codes), one CSV summary."""

    class Source(models.TextChoices):
        SINGLE = "single", "Courrier unique"
        SELECTION = "selection", "Sélection de centres"
        IMPORT = "import", "Import CSV"

    source = models.CharField(max_length=16, choices=Source.choices)
    description = models.CharField(max_length=255, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    letter_count = models.PositiveIntegerField(default=0)
    revoked_count = models.PositiveIntegerField(
        default=0, help_text="Codes précédents encore inutilisés, révoqués par ce lot."
    )

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Lot {self.pk} — {self.letter_count} courriers"


class Letter(models.Model):
    """A letter sent to a centre: which code it carried (the code itself is only in the PDF)."""

    centre = models.ForeignKey(Centre, on_delete=models.CASCADE, related_name="letters")
    batch = models.ForeignKey(LetterBatch, on_delete=models.CASCADE, related_name="letters")
    activation_code = models.OneToOneField(
        "demarches.ActivationCode", on_delete=models.PROTECT, related_name="letter"
    )
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    issued_at = models.DateTimeField(default=timezone.now)
    revoked_previous = models.BooleanField(
        default=False, help_text="Un code précédent encore inutilisé a été révoqué."
    )

    class Meta:
        ordering = ["-issued_at", "-id"]

    def __str__(self) -> str:
        return f"Courrier {self.centre} ({self.issued_at:%Y-%m-%d})"
