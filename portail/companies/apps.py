from django.apps import AppConfig


class CompaniesConfig(AppConfig):
    name = "portail.companies"
    label = "companies"
