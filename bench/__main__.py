"""``python -m bench``: run the interleaved benchmark (see `bench` and ``bench/README.md``)."""

from __future__ import annotations

from bench._harness import main

main()
