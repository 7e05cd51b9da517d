"""``python -m sandbox up|seed`` (see `sandbox._cli`)."""

from __future__ import annotations

import sys

from sandbox._cli import main

if __name__ == "__main__":
    sys.exit(main())
