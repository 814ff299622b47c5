"""The portal's démarches and their roles, as the data migration loads them.

The Django admin edits them afterwards (URL, OIDC client, version, wording). `install_catalogue`
only creates what is missing: it never overwrites what an administrator changed. It takes the
model classes so the data migration can pass its historical models.
"""

from typing import Any

CERES = "ceres"

CATALOGUE: list[dict[str, Any]] = [
    {
        "code": CERES,
        "short_label": "CERES",
        "long_name": "Certifications Emplois",
        "service_type": "Certification professionnelle",
        "description": (
            "L'applicatif qui centralise les processus métiers du titre professionnel du "
            "ministère chargé de l'emploi : sessions d'examen des centres agréés."
        ),
        "url": "http://127.0.0.1:8001/",
        # What the portal shows of CERES' version: the one CERES says (`ceres.__version__`, its
        # footer); a test holds them equal. The admin updates it when CERES ships a new one.
        "version": "2.6.1",
        "accepts_activation_codes": True,
        "professional_only": True,
        "assistance": (
            "Service d'assistance téléphonique du lundi au vendredi de 9h à 18h au 01 46 29 25 54."
        ),
        "order": 10,
        "requires_mfa": True,
        "access_review_months": 12,
        "roles": [
            {
                "code": "centre-agree",
                "label": "Centre agréé",
                "description": "Centres de formation",
                "can_manage": False,
                "granted_on_activation": True,
                "order": 10,
            },
            {
                "code": "gestionnaire-centres",
                "label": "Gestionnaire CENTRES",
                "description": "Gestionnaire des comptes CENTRES",
                "can_manage": True,
                "granted_on_activation": True,
                "order": 20,
            },
        ],
    },
    {
        "code": "mon-activite-formation",
        "short_label": "MAF",
        "long_name": "Mon Activité Formation",
        "service_type": "Déclaration d'activité et bilan pédagogique et financier",
        "description": (
            "La déclaration d'activité et le bilan pédagogique et financier (BPF) des "
            "organismes de formation."
        ),
        "url": "",
        "version": "1.0",
        "accepts_activation_codes": True,
        "professional_only": True,
        "assistance": "Contactez le service régional de contrôle de votre DREETS.",
        "order": 20,
        "roles": [
            {
                "code": "declarant",
                "label": "Déclarant",
                "description": "Déclarations d'activité et bilans pédagogiques et financiers",
                "can_manage": False,
                "granted_on_activation": True,
                "order": 10,
            },
            {
                "code": "gestionnaire-organisme",
                "label": "Gestionnaire ORGANISME",
                "description": "Gestionnaire des comptes de l'organisme de formation",
                "can_manage": True,
                "granted_on_activation": True,
                "order": 20,
            },
        ],
    },
    {
        "code": "mes-collectes-formation",
        "short_label": "MCF",
        "long_name": "Mes collectes formation",
        "service_type": "Collecte de données de la formation professionnelle",
        "description": "Les collectes de données auprès des organismes de formation.",
        "url": "",
        "version": "1.0",
        "accepts_activation_codes": True,
        "professional_only": True,
        "assistance": "Contactez le service en charge de la collecte dans votre DREETS.",
        "order": 30,
        "roles": [
            {
                "code": "contributeur",
                "label": "Contributeur",
                "description": "Saisie et transmission des collectes",
                "can_manage": False,
                "granted_on_activation": True,
                "order": 10,
            },
            {
                "code": "gestionnaire-collectes",
                "label": "Gestionnaire COLLECTES",
                "description": "Gestionnaire des comptes COLLECTES",
                "can_manage": True,
                "granted_on_activation": True,
                "order": 20,
            },
        ],
    },
    {
        "code": "mon-suivi-du-controle",
        "short_label": "MSC",
        "long_name": "Mon suivi du contrôle",
        "service_type": "Contrôle de la formation professionnelle",
        "description": "Le suivi des contrôles et la transmission des pièces demandées.",
        "url": "",
        "version": "1.0",
        "accepts_activation_codes": True,
        "professional_only": True,
        "assistance": "Contactez le service régional de contrôle de votre DREETS.",
        "order": 40,
        "roles": [
            {
                "code": "correspondant-controle",
                "label": "Correspondant contrôle",
                "description": "Suivi des contrôles et transmission des pièces",
                "can_manage": False,
                "granted_on_activation": True,
                "order": 10,
            },
            {
                "code": "gestionnaire-controle",
                "label": "Gestionnaire CONTRÔLE",
                "description": "Gestionnaire des comptes CONTRÔLE",
                "can_manage": True,
                "granted_on_activation": True,
                "order": 20,
            },
        ],
    },
]


def install_catalogue(demarche_model: Any, role_model: Any) -> list[Any]:
    """Create the démarches and roles that are missing; return the démarches, in order."""
    demarches = []
    for entry in CATALOGUE:
        # An older migration's model lacks the fields added since: it gets what it knows.
        known = {field.name for field in demarche_model._meta.get_fields()}
        fields = {k: v for k, v in entry.items() if k in known and k not in ("code", "roles")}
        demarche, _ = demarche_model.objects.get_or_create(code=entry["code"], defaults=fields)
        for role in entry["roles"]:
            role_fields = {k: v for k, v in role.items() if k != "code"}
            role_model.objects.get_or_create(
                demarche=demarche, code=role["code"], defaults=role_fields
            )
        demarches.append(demarche)
    return demarches
