#!/usr/bin/env python
"""The portal's command line. Settings default to development; production sets DJANGO_SETTINGS_MODULE."""

import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portail.settings.dev")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
