"""``python -m sandbox``: start Musterstadt (``up``) or file demo applications (``seed``)."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    up = sub.add_parser("up", help="start portal, Fachverfahren Steuern and e-Akte on 127.0.0.1")
    up.add_argument("--data-dir", type=Path, default=Path("var/sandbox"))
    up.add_argument("--portal-port", type=int, default=8401)
    up.add_argument("--steuer-port", type=int, default=8402)
    up.add_argument("--eakte-port", type=int, default=8403)
    up.add_argument("--mail-port", type=int, default=8404, help="webmail of the mail system")
    up.add_argument("--smtp-port", type=int, default=8425, help="SMTP intake of the mail system")
    up.add_argument("--layout", default="v1", help="back-office layout version (v1, v2 …)")
    up.add_argument(
        "--lockout-after",
        type=int,
        default=None,
        metavar="N",
        help="lock a back-office account after N failed logins in a row (default: never)",
    )
    up.add_argument("--key-size", type=int, default=4096, help="RSA size of new portal keys")
    up.add_argument("--seed", type=int, default=None, help="seed of the fault randomness")

    seed = sub.add_parser("seed", help="file generated Hundesteuer applications to the portal")
    seed.add_argument("--count", type=int, required=True)
    seed.add_argument("--bad-share", type=float, default=0.2)
    seed.add_argument("--portal", default="http://127.0.0.1:8401", help="portal base URL")
    seed.add_argument("--seed", type=int, default=42)
    seed.add_argument("--client-id", default=None, help="sender client id (demo default)")
    seed.add_argument("--client-secret", default=None, help="sender client secret (demo default)")
    seed.add_argument("--json", action="store_true", help="print ids and labels as JSON lines")
    return parser


def _up(args: argparse.Namespace) -> int:
    from sandbox._run import SandboxConfig, run_all

    config = SandboxConfig(
        data_dir=args.data_dir,
        portal_port=args.portal_port,
        steuer_port=args.steuer_port,
        eakte_port=args.eakte_port,
        mail_port=args.mail_port,
        smtp_port=args.smtp_port,
        layout=args.layout,
        lockout_after=args.lockout_after,
        key_size=args.key_size,
        seed=args.seed,
    )
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    print("Musterstadt startet …", flush=True)
    with run_all(config) as running:
        for name, url in running.urls.items():
            print(f"  {name:<7} {url}")
        for name in running.missing:
            print(f"  {name:<7} nicht verfügbar (Modul sandbox.{name} fehlt) – nicht gestartet")
        print("Demo-Zugangsdaten:")
        for name, creds in running.credentials().items():
            print(f"  {name}: {json.dumps(creds, ensure_ascii=False)}")
        if args.lockout_after:
            print(
                f"  Kontosperre: nach {args.lockout_after} fehlgeschlagenen Anmeldungen"
                " (entsperren: POST /admin/accounts/<name>/unlock)"
            )
        portal_keys = config.data_dir / "portal" / "receiver-keys.json"
        print(f"  Empfängerschlüssel (privat, nur Demo): {portal_keys}")
        print("Beenden mit Strg+C.", flush=True)
        while not stop.wait(0.5):
            pass
    print("Musterstadt beendet.", flush=True)
    return 0


def _seed(args: argparse.Namespace) -> int:
    from sandbox.seed import seed_portal

    seeded = seed_portal(
        args.portal,
        args.count,
        bad_share=args.bad_share,
        seed=args.seed,
        client_id=args.client_id,
        client_secret=args.client_secret,
    )
    if args.json:
        for item in seeded:
            print(json.dumps({"label": item.label, **item.ref}))
    counts = Counter(item.label for item in seeded)
    summary = ", ".join(f"{label}: {n}" for label, n in sorted(counts.items()))
    print(f"{len(seeded)} Anträge eingereicht ({summary})", file=sys.stderr if args.json else None)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m sandbox``; returns the exit code."""
    args = _parser().parse_args(argv)
    if args.command == "up":
        return _up(args)
    return _seed(args)
