"""``python -m glassnet`` runs the ``glassnet`` command."""

from __future__ import annotations

import sys

from glassnet.cli import main

sys.exit(main())
