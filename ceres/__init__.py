"""CERES (CERTifications Emplois): a démarche of its own, signing in through the portal (OIDC)."""

__version__ = "2.6.1"
