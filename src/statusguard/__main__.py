"""``python -m statusguard``: the same command line as the ``statusguard`` script."""

import sys

from .cli import main

sys.exit(main())
