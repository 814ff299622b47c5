"""The core's one table: the rate limits' state when Redis is not configured."""

from django.db import models


class RateLimitState(models.Model):
    """One key of a limiter (`portail.core.ratelimit.step` says what the columns mean). Times are
    Unix seconds, compared with the workers' clocks."""

    limiter = models.CharField(max_length=40)
    digest = models.CharField(max_length=32)  # the subject, hashed: no personal data
    hits = models.PositiveIntegerField(default=0)
    failures = models.PositiveIntegerField(default=0)
    window_ends = models.FloatField(default=0)
    blocked_until = models.FloatField(default=0)
    next_wait = models.PositiveIntegerField()
    expires_at = models.FloatField(default=0, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["limiter", "digest"], name="ratelimit_one_row_per_key")
        ]

    def __str__(self) -> str:
        return f"{self.limiter}:{self.digest}"
