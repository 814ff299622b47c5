"""Access requests are read-only here: gestionnaires decide them on the portal."""

from django.contrib import admin

from portail.core.admin import ReadOnlyAdmin
from portail.habilitations.models import AccessRequest


@admin.register(AccessRequest)
class AccessRequestAdmin(ReadOnlyAdmin):
    list_display = ["requester", "demarche", "establishment", "role", "status", "created_at"]
    list_filter = ["demarche", "status"]
    search_fields = ["requester__email", "establishment__siret"]
    list_select_related = ["requester", "demarche", "establishment", "role"]
