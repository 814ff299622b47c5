"""Django admin (technical administrators): agents' regions, and read-only views of the rest.

Letters change only through the back-office flows (audited); agents are created with
`manage.py create_agent`. Here an administrator may adjust an agent's regions. Regions and
centres have their admin in `portail.centres.admin`.
"""

from django.contrib import admin
from django.http import HttpRequest

from portail.backoffice.models import AgentProfile, LetterBatch
from portail.core.admin import ReadOnlyAdmin


@admin.register(AgentProfile)
class AgentProfileAdmin(admin.ModelAdmin):
    list_display = ("user", "is_national")
    list_filter = ("is_national", "regions")
    search_fields = ("user__email", "user__last_name")
    filter_horizontal = ("regions",)
    raw_id_fields = ("user",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # manage.py create_agent (audited)


@admin.register(LetterBatch)
class LetterBatchAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "source", "letter_count", "revoked_count", "created_by")
