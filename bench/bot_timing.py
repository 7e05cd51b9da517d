"""Milliseconds per Hundesteuer registration: one warm bot session against the sandbox.

Starts the sandbox Fachverfahren Steuern on a free port (faults off), one Chromium, one
`SteuerBot` (one login), then registers ``--items`` new applications (each a new taxpayer,
the full path: idempotency search, taxpayer search, taxpayer form, case form, confirmation) after
``--warmup`` unmeasured ones, and prints median / p90 / mean of the wall time per `register()`.

    python -m bench.bot_timing --items 60 [--no-trace] [--reuse-taxpayer]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from datetime import date
from pathlib import Path

from schwifty import IBAN

from bots import BotAccount, BrowserSession
from bots.steuer import SteuerBot, SteuerSettings
from connectors.records.hundesteuer import DogTaxApplication, parse_application
from sandbox._common import serve_in_thread
from sandbox.steuer import SteuerConfig, create_app


def application(n: int) -> DogTaxApplication:
    """A valid application with a unique owner and reference (synthetic data)."""
    data = {
        "owner": {
            "givenName": "Erika",
            "familyName": f"Muster{uuid.uuid4().hex[:8]}",
            "birthDate": date(1970 + n % 30, 1 + n % 12, 1 + n % 28).isoformat(),
            "street": "Hauptstraße",
            "houseNumber": str(1 + n % 99),
            "postalCode": "44623",
            "city": "Musterstadt",
            "email": f"halter{n}@example.org",
        },
        "dog": {
            "name": "Bello",
            "breed": "LABR",
            "birthDate": "2023-05-03",
            "chipNumber": f"276{n:012d}",
            "ownedSince": "2025-10-01",
        },
        "sepaMandate": {
            "accountHolder": "Erika Muster",
            "iban": str(IBAN.generate("DE", bank_code="12030000", account_code=f"{n:010d}")),
        },
    }
    return parse_application(data, reference=f"sub-{uuid.uuid4()}", case_id=f"case-{n}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=60)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--no-trace", action="store_true", help="no per-item Playwright trace")
    parser.add_argument("--layout", default="v1", choices=["v1", "v2"])
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        config = SteuerConfig(data_dir=Path(tmp), layout=args.layout)
        with serve_in_thread(create_app(config)) as served, BrowserSession() as session:
            account = BotAccount(username="bot1", password=config.accounts["bot1"])
            settings = SteuerSettings(base_url=served.base_url)
            with SteuerBot(
                session, settings, account, evidence_dir=Path(tmp) / "evidence",
                trace=not args.no_trace,
            ) as bot:  # fmt: skip
                times = []
                for n in range(args.warmup + args.items):
                    app = application(n)
                    start = time.perf_counter()
                    reg = bot.register(app)
                    elapsed = (time.perf_counter() - start) * 1000
                    assert reg.created
                    if n >= args.warmup:
                        times.append(elapsed)
                logins = bot.logins
    times.sort()
    p90 = times[int(0.9 * (len(times) - 1))]
    print(
        f"registrations={len(times)} layout={args.layout} trace={not args.no_trace} "
        f"logins={logins} median_ms={statistics.median(times):.0f} p90_ms={p90:.0f} "
        f"mean_ms={statistics.mean(times):.0f} min_ms={times[0]:.0f} max_ms={times[-1]:.0f}"
    )


if __name__ == "__main__":
    main()
