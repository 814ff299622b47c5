"""Django admin (technical administrators): read-only views of regions and centres.

Centres and their sites liés change only through the back-office flows (audited).
"""

from django.contrib import admin

from portail.centres.models import Centre, Region


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


@admin.register(Centre)
class CentreAdmin(ReadOnlyAdmin):
    list_display = ("letter_name", "establishment", "region", "closed_at")
    list_filter = ("region",)
    search_fields = ("letter_name", "establishment__siret")
