"""The catalogue is edited here (démarches and roles). Codes are read-only: they are issued by
`issue_activation_code` (back-office, command)."""

from django.contrib import admin

from portail.core.admin import ReadOnlyAdmin
from portail.demarches.models import ActivationCode, Demarche, Role


class RoleInline(admin.TabularInline):
    model = Role
    extra = 0
    fields = ["code", "label", "description", "can_manage", "granted_on_activation", "order"]


@admin.register(Demarche)
class DemarcheAdmin(admin.ModelAdmin):
    list_display = [
        "short_label",
        "long_name",
        "service_type",
        "accepts_activation_codes",
        "professional_only",
        "version",
        "is_active",
        "order",
    ]
    list_editable = ["order"]
    search_fields = ["code", "short_label", "long_name"]
    inlines = [RoleInline]


@admin.register(ActivationCode)
class ActivationCodeAdmin(ReadOnlyAdmin):
    list_display = ["demarche", "siret", "issued_at", "expires_at", "used_at", "revoked_at"]
    list_filter = ["demarche"]
    search_fields = ["siret"]
    exclude = ["code_hash"]
    list_select_related = ["demarche"]
