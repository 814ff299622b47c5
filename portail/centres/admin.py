"""Django admin (technical administrators): read-only views of regions and centres.

Centres and their sites liés change only through the back-office flows (audited).
"""

from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest

from portail.centres.models import Centre, Region


class ReadOnlyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]  # not generic at run time
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


@admin.register(Region)
class RegionAdmin(ReadOnlyAdmin):
    list_display = ("code", "name")


@admin.register(Centre)
class CentreAdmin(ReadOnlyAdmin):
    list_display = ("letter_name", "establishment", "region", "closed_at")
    list_filter = ("region",)
    search_fields = ("letter_name", "establishment__siret")
