"""``python -m demo`` (``make demo``) and ``python -m demo stop`` (``make demo-stop``)."""

from __future__ import annotations

import sys

from demo._main import main

sys.exit(main())
