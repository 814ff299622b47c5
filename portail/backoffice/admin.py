"""Django admin (technical administrators): agents' regions, and read-only views of the rest.

Centres, letters and imports change only through the back-office flows (audited); agents are
created with `manage.py create_agent`. Here an administrator may adjust an agent's regions.
"""

from django.contrib import admin

from portail.backoffice.models import AgentProfile, Centre, LetterBatch, Region


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Region)
class RegionAdmin(ReadOnlyAdmin):
    list_display = ("code", "name")


@admin.register(AgentProfile)
class AgentProfileAdmin(admin.ModelAdmin):
    list_display = ("user", "is_national")
    list_filter = ("is_national", "regions")
    search_fields = ("user__email", "user__last_name")
    filter_horizontal = ("regions",)
    raw_id_fields = ("user",)

    def has_add_permission(self, request):
        return False  # manage.py create_agent (audited)


@admin.register(Centre)
class CentreAdmin(ReadOnlyAdmin):
    list_display = ("letter_name", "establishment", "region", "closed_at")
    list_filter = ("region",)
    search_fields = ("letter_name", "establishment__siret")


@admin.register(LetterBatch)
class LetterBatchAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "source", "letter_count", "revoked_count", "created_by")
