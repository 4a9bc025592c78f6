"""``python -m creative4u`` is the ``creative4u`` command."""

import sys

from creative4u.cli import main

sys.exit(main())
