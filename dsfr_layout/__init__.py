"""The DSFR page frame (skip links, header, main, footer) that the portal and CERES both extend.

Neutral: no URL, no model, nothing of either application. Its context processor
(`dsfr_layout.context_processors.page`) reads SERVICE_NAME, SERVICE_TAGLINE, ENVIRONMENT and
APP_VERSION from the project's settings; each base template fills in the blocks of
`dsfr_layout/page.html` (its own links, its footer).
"""
