"""What one letter costs as PDF: the Hundesteuerbescheid through LibreOffice headless.

```
.venv/bin/python -m bench.letter_pdf            # 10 letters on a reused profile, 3 on fresh ones
.venv/bin/python -m bench.letter_pdf --n 20 --fresh 5
```

Three figures, taken in one run: the first letter of a process (LibreOffice fills a new
profile), the median of later letters on the reused profile (what `to_pdf` costs in a running
worker), and the median on a fresh profile per letter (what reuse saves, as a ratio).
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import date
from decimal import Decimal

from connectors.documents import LetterConverter, render_dog_tax_notice


def _notice() -> bytes:
    return render_dog_tax_notice(
        aktenzeichen="HST-2026-000123",
        tax_amount=Decimal("157.10"),
        owner_name="Erika Mustermann",
        address_lines=["Hauptstraße 12a", "44623 Musterstadt"],
        dog_name="Bello",
        breed_name="Labrador Retriever",
        start_date=date(2026, 10, 14),
        iban="DE02120300000000202051",
        notice_date=date(2026, 11, 22),
    )


def _timed(converter: LetterConverter, docx: bytes) -> float:
    start = time.perf_counter()
    converter.to_pdf(docx)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(prog="python -m bench.letter_pdf", description=__doc__)
    parser.add_argument("--n", type=int, default=10, help="letters on the reused profile")
    parser.add_argument("--fresh", type=int, default=3, help="letters on a fresh profile each")
    args = parser.parse_args(argv)
    docx = _notice()

    warm = LetterConverter()
    try:
        first = _timed(warm, docx)
        reused = [_timed(warm, docx) for _ in range(args.n)]
    finally:
        warm.close()
    fresh: list[float] = []
    for _ in range(args.fresh):
        converter = LetterConverter()
        try:
            fresh.append(_timed(converter, docx))
        finally:
            converter.close()

    result = {
        "first_s": first,
        "reused_median_s": statistics.median(reused),
        "reused_p90_s": sorted(reused)[max(0, int(len(reused) * 0.9) - 1)],
        "fresh_median_s": statistics.median(fresh) if fresh else float("nan"),
    }
    result["fresh_over_reused"] = result["fresh_median_s"] / result["reused_median_s"]
    print(f"letter → PDF ({len(docx)} bytes DOCX), LibreOffice headless")
    print(f"  first letter (new profile)   {result['first_s']:6.2f} s")
    print(f"  reused profile, median of {args.n:<3}{result['reused_median_s']:6.2f} s")
    print(f"  reused profile, p90          {result['reused_p90_s']:6.2f} s")
    print(f"  fresh profile, median of {args.fresh:<4}{result['fresh_median_s']:6.2f} s")
    print(f"  fresh / reused               {result['fresh_over_reused']:6.2f}×")
    return result


if __name__ == "__main__":
    main()
