from django.contrib import admin

from portail.audit.models import AuditEvent
from portail.core.admin import ReadOnlyAdmin


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ("at", "actor_label", "action", "target_type", "target_label", "ip")
    list_filter = ("action",)
    search_fields = ("actor_label", "target_label", "action")
