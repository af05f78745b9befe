#!/usr/bin/env python
"""Django's command-line utility for the example project.

    pip install statusguard django
    cd examples/django_project
    python manage.py runserver                 # DEBUG on: statusguard runs in strict mode
    STATUSGUARD_MODE=fix python manage.py runserver
"""

import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "example.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
