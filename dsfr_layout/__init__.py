"""The DSFR page frame (skip links, header, main, footer) that the portal and CERES both extend.

Templates only, and neutral: no URL, no setting, no code of either application. A page reads
SERVICE_NAME, SERVICE_TAGLINE, ENVIRONMENT and APP_VERSION from its project's context processor
and fills in the blocks of `dsfr_layout/page.html`.
"""
