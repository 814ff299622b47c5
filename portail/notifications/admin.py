from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from portail.notifications.models import OutboxEmail


@admin.register(OutboxEmail)
class OutboxEmailAdmin(admin.ModelAdmin):
    list_display = (
        "created_at",
        "recipient",
        "subject",
        "category",
        "status",
        "attempts",
        "sent_at",
    )
    list_filter = ("status", "category")
    search_fields = ("recipient", "subject")
    readonly_fields = [f.name for f in OutboxEmail._meta.fields]
    actions = ["requeue"]

    @admin.action(description="Remettre en file d’envoi")
    def requeue(self, request: HttpRequest, queryset: QuerySet[OutboxEmail]) -> None:
        queryset.filter(status=OutboxEmail.Status.FAILED).update(
            status=OutboxEmail.Status.PENDING, next_attempt_at=None, attempts=0
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
