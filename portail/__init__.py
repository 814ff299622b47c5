"""Portail de services — Mes Démarches Emploi et Formation Professionnelle."""

__version__ = "0.1.0"
