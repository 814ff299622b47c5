from django.apps import AppConfig


class DevtoolsConfig(AppConfig):
    """Development only: installed by the dev and test settings, never by production's.

    Its command `load_demo_data` reaches every app's demo data: it sits in the top layer, above
    the apps it loads, rather than in core, below them.
    """

    name = "portail.devtools"
    label = "devtools"
