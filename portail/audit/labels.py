"""What each journal action means, in French, for the pages that show the journal to people."""

ACTION_LABELS = {
    "account.signup": "Création de compte",
    "account.signup_existing_email": "Inscription avec une adresse déjà utilisée",
    "account.activated": "Compte activé",
    "account.activation_resent": "Lien d’activation renvoyé",
    "account.login": "Connexion",
    "account.login_failed": "Échec de connexion",
    "account.logout": "Déconnexion",
    "account.password_changed": "Mot de passe modifié",
    "account.password_reset_requested": "Réinitialisation du mot de passe demandée",
    "account.password_reset": "Mot de passe réinitialisé",
    "account.profile_updated": "Coordonnées modifiées",
    "account.email_change_requested": "Changement d’adresse électronique demandé",
    "account.email_changed": "Adresse électronique modifiée",
    "account.deleted": "Compte supprimé",
    "account.session_ended": "Session fermée depuis « Mes sessions et appareils »",
    "account.new_browser_login": "Connexion depuis un nouveau navigateur",
    "activation_code.issued": "Code d’activation émis",
    "demarche.activated": "Démarche activée avec un code",
    "demarche.activation_failed": "Code d’activation refusé",
    "demarche.activation_blocked": "Saisie du code bloquée (trop d’essais)",
    "access_request.created": "Demande d’accès envoyée",
    "access_request.accepted": "Demande d’accès acceptée",
    "access_request.refused": "Demande d’accès refusée",
    "habilitation.granted": "Habilitation accordée",
    "habilitation.revoked": "Habilitation révoquée",
    "habilitation.role_changed": "Rôle modifié",
    "invitation.sent": "Invitation envoyée",
    "invitation.delegated": "Délégation proposée à un tiers",
    "invitation.resent": "Invitation renvoyée",
    "invitation.cancelled": "Invitation annulée",
    "invitation.accepted": "Invitation acceptée",
    "invitation.refused": "Invitation refusée",
    "backoffice.agent.created": "Agent créé",
    "backoffice.agent.updated": "Agent modifié",
    "backoffice.agent.login": "Connexion d’un agent",
    "backoffice.agent.otp_enrolled": "Application d’authentification enregistrée",
    "backoffice.agent.otp_failed": "Code d’authentification refusé",
    "backoffice.centre.created": "Centre agréé créé",
    "backoffice.centre.updated": "Centre agréé modifié",
    "backoffice.centre.closed": "Centre agréé fermé",
    "backoffice.centres.imported": "Centres importés",
    "backoffice.site.added": "Site lié ajouté",
    "backoffice.site.removed": "Site lié retiré",
    "backoffice.letters.generated": "Courriers générés",
    "backoffice.export": "Export CSV",
    "backoffice.support.activation_resent": "Assistance : lien d’activation renvoyé",
    "backoffice.support.habilitation_revoked": "Assistance : habilitation révoquée",
    "backoffice.support.ratelimit_lifted": "Assistance : attente levée",
    "oidc.client_registered": "Client OpenID Connect enregistré",
    "oidc.authorization_code_replayed": "Code d’autorisation rejoué (jetons révoqués)",
}

# The support's own events, written beside the flow's event until each support action became
# that one event with `"support": true` in its data; they stay in the journal.
FORMER_SUPPORT_ACTIONS = (
    "backoffice.support.activation_resent",
    "backoffice.support.habilitation_revoked",
    "backoffice.support.ratelimit_lifted",
)


def action_label(action: str) -> str:
    """The French label, or the code itself for an action nobody has named yet."""
    return ACTION_LABELS.get(action, action)
