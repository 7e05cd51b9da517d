"""The ``amtsbote`` command: what admins and auditors run by hand.

amtsbote audit verify [--path FILE]     recompute the hash chain, name the first bad line
amtsbote audit report [--day YYYY-MM-DD] write the day's DOCX report (no Prefect server needed)
amtsbote evidence purge [--days N]      delete evidence folders older than the retention
amtsbote store upgrade                  migrate the work-item store to the newest schema
amtsbote store counts [--process P]     work items per state
amtsbote store purge                    delete payloads of items ended before the retention
amtsbote store rotate-keys              re-encrypt all payloads with the newest key
amtsbote store new-key                  print a fresh key for AMTSBOTE_STORE_KEYS
amtsbote portal held [--process P]     submissions waiting for a key the intake lacks, with age
amtsbote portal reject [--process P] ID reject such a submission at the portal (encryption-issue)
amtsbote draft-page URL [--login-as ACCOUNT] [--system steuer] [--frame NAME] [--out FILE]
                                        draft a page object from a live screen (the password
                                        of --login-as: AMTSBOTE_DRAFT_PASSWORD, or the Prefect
                                        Secret block named by AMTSBOTE_DRAFT_PASSWORD_BLOCK)
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from amtsbote import AmtsboteSettings, AuditTrail, verify_trail
from flows._portal_cli import add_portal_commands

if TYPE_CHECKING:
    from collections.abc import Callable

    from playwright.sync_api import Page

    from amtsbote.store import WorkItemStore

__all__ = ["main"]


def _verify(args: argparse.Namespace) -> int:
    path = Path(args.path) if args.path else AmtsboteSettings().audit_path
    result = verify_trail(path)
    print(f"{path}: {result}")
    return 0 if result.ok else 1


def _report(args: argparse.Namespace) -> int:
    from flows.audit_report import build_report

    settings = AmtsboteSettings()
    day = date.fromisoformat(args.day) if args.day else date.today()
    rows, verdict, report = build_report(AuditTrail(settings.audit_path), day)
    out = settings.data_dir / "reports" / f"audit-{day.isoformat()}.docx"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(report)
    print(f"{len(rows)} events; {verdict}; report: {out}")
    return 0


def _purge(args: argparse.Namespace) -> int:
    settings = AmtsboteSettings()
    days = args.days or settings.evidence_retention_days
    cutoff = time.time() - days * 86400
    removed = 0
    root = settings.evidence_dir
    for run_dir in sorted(root.glob("*/*")) if root.exists() else []:
        if run_dir.is_dir() and run_dir.stat().st_mtime < cutoff:
            shutil.rmtree(run_dir)
            removed += 1
    print(f"removed {removed} evidence folders older than {days} days under {root}")
    return 0


def _store(args: argparse.Namespace) -> int:
    from amtsbote import AmtsboteError
    from amtsbote.store import WorkItemStore, new_key

    if args.cmd == "new-key":
        print(new_key())
        return 0
    try:
        return _store_command(WorkItemStore.from_settings(), args)
    except AmtsboteError as exc:
        print(f"amtsbote store {args.cmd}: {exc} [{exc.code}]", file=sys.stderr)
        return 2
    except ValueError as exc:  # a malformed AMTSBOTE_STORE_URL
        print(f"amtsbote store {args.cmd}: {exc}", file=sys.stderr)
        return 2


def _store_command(store: WorkItemStore, args: argparse.Namespace) -> int:
    with store:
        if args.cmd == "upgrade":
            store.upgrade()
            print(f"work-item store at the newest schema: {store!r}")
        elif args.cmd == "counts":
            counts = store.counts(args.process)
            width = max(len(state) for state in counts)
            for state, n in counts.items():
                print(f"{state:<{width}}  {n:>8}")
            print(f"{'total':<{width}}  {sum(counts.values()):>8}")
        elif args.cmd == "purge":
            print(f"deleted {store.purge_payloads()} payloads ended over the retention period ago")
        elif args.cmd == "rotate-keys":
            print(f"re-encrypted {store.rotate_keys()} payloads with the newest key")
    return 0


def _draft_password(account: str) -> str:
    # Never a command-line argument: it would stand in the shell history and the process list.
    password = os.environ.get("AMTSBOTE_DRAFT_PASSWORD")
    if password:
        return password
    block = os.environ.get("AMTSBOTE_DRAFT_PASSWORD_BLOCK")
    if block:
        from bots import BotAccount

        return BotAccount.from_secret_block(account, block).secret().get_secret_value()
    raise ValueError(
        f"kein Passwort für {account!r}: AMTSBOTE_DRAFT_PASSWORD oder "
        "AMTSBOTE_DRAFT_PASSWORD_BLOCK (Name eines Prefect-Secret-Blocks) setzen"
    )


def _draft(args: argparse.Namespace) -> int:
    from amtsbote import AmtsboteError
    from bots import BrowserSession
    from bots._draft import draft_page, generic_login

    login: Callable[[Page, str, str], None] = generic_login
    if args.system == "steuer":
        from bots.steuer import draft_login

        login = draft_login

    try:
        account = (args.login_as, _draft_password(args.login_as)) if args.login_as else None
        with BrowserSession(handle_signals=False) as session:
            source = draft_page(session, args.url, account=account, login=login, frame=args.frame)
    except (AmtsboteError, ValueError) as exc:
        print(f"amtsbote draft-page: {exc}", file=sys.stderr)
        return 2
    if args.out:
        Path(args.out).write_text(source + "\n", encoding="utf-8")
        print(f"draft written to {args.out}")
    else:
        print(source)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="amtsbote", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="area", required=True)
    audit = sub.add_parser("audit").add_subparsers(dest="cmd", required=True)
    v = audit.add_parser("verify", help="verify the audit trail's hash chain")
    v.add_argument("--path")
    v.set_defaults(fn=_verify)
    r = audit.add_parser("report", help="write the day's audit report (DOCX)")
    r.add_argument("--day")
    r.set_defaults(fn=_report)
    evidence = sub.add_parser("evidence").add_subparsers(dest="cmd", required=True)
    p = evidence.add_parser("purge", help="delete evidence older than the retention period")
    p.add_argument("--days", type=int)
    p.set_defaults(fn=_purge)
    store = sub.add_parser("store").add_subparsers(dest="cmd", required=True)
    store.add_parser("upgrade", help="migrate the work-item store").set_defaults(fn=_store)
    c = store.add_parser("counts", help="work items per state")
    c.add_argument("--process")
    c.set_defaults(fn=_store)
    store.add_parser("purge", help="delete payloads after the retention").set_defaults(fn=_store)
    store.add_parser("rotate-keys", help="re-encrypt with the newest key").set_defaults(fn=_store)
    store.add_parser("new-key", help="print a fresh Fernet key").set_defaults(fn=_store)
    add_portal_commands(sub)
    d = sub.add_parser("draft-page", help="draft a page object from a live screen")
    d.add_argument("url")
    d.add_argument("--login-as", metavar="ACCOUNT", help="log in first (password: environment)")
    d.add_argument("--system", choices=["steuer"], help="log in with this system's login page")
    d.add_argument("--frame", metavar="NAME", help="the frame holding the screen")
    d.add_argument("--out", metavar="FILE", help="write the draft here (default: stdout)")
    d.set_defaults(fn=_draft)
    args = parser.parse_args(argv)
    return int(args.fn(args))


if __name__ == "__main__":
    sys.exit(main())
