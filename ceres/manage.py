#!/usr/bin/env python
"""CERES' command line: `python ceres/manage.py runserver 127.0.0.1:8001`.

Settings default to development; production sets DJANGO_SETTINGS_MODULE=ceres.settings.prod.
"""

import os
import sys
from pathlib import Path

if __name__ == "__main__":
    # Run from anywhere: the repository root holds the `ceres` package.
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ceres.settings.dev")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
