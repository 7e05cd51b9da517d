"""``amtsbote portal held|reject``: the submissions a process's intake holds, and their end.

A submission encrypted to a key this installation lacks waits at the portal (see
`flows.engine._watch`). An admin either installs the key (the next run takes it) or, when the
key is gone for good or the submission was never meant for us, rejects it here: at the portal
as FIT-Connect's ``encryption-issue`` for the part concerned (the sender learns it at once,
not after the service's 14 days), recorded in the audit trail with the service's signed receipt.
Only a held submission can be rejected this way: one that opens goes to the intake.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from amtsbote import AmtsboteError, AmtsboteSettings, AuditTrail, BusinessRuleError, ItemHeld

if TYPE_CHECKING:
    from connectors.sources import Source, SourceItem

__all__ = ["add_portal_commands"]


def _process(name: str) -> Any:
    from flows.serve import PROCESSES

    for flows in PROCESSES:
        if flows.process.name == name:
            return flows.process
    known = ", ".join(f.process.name for f in PROCESSES)
    raise ValueError(f"unbekannter Prozess {name!r} (bekannt: {known})")


def _held(source: Source[Any]) -> list[tuple[SourceItem, ItemHeld]]:
    out = []
    for item in source.list_new():
        try:
            source.fetch(item)
        except ItemHeld as exc:
            out.append((item, exc))
        except AmtsboteError:  # rejected or deferred by the intake, not held
            continue
    return out


def _list(source: Source[Any], args: argparse.Namespace) -> int:
    from flows.engine._intake import HeldItem  # Prefect: only when the command runs
    from flows.engine._watch import held_rows

    held = _held(source)
    now = datetime.now(UTC)
    rows = held_rows([HeldItem(i.item_key, e.code, e.part, e.since) for i, e in held], now)
    if not rows:
        print("keine Anträge warten auf einen Schlüssel")
        return 0
    cols = list(rows[0])
    widths = {c: max(len(c), *(len(r[c]) for r in rows)) for c in cols}
    print("  ".join(c.ljust(widths[c]) for c in cols))
    for r in rows:
        print("  ".join(r[c].ljust(widths[c]) for c in cols))
    return 0


def _reject(source: Source[Any], args: argparse.Namespace) -> int:
    item = next((i for i in source.list_new() if i.item_key == args.item_key), None)
    if item is None:
        print(f"{args.item_key}: wartet nicht (mehr) am Portal", file=sys.stderr)
        return 1
    try:
        source.fetch(item)
    except ItemHeld as held:
        exc = held
    except BusinessRuleError:
        print(f"{item.item_key}: technisch fehlerhaft; der nächste Lauf lehnt ihn selbst ab")
        return 1
    else:
        print(
            f"{item.item_key}: lässt sich öffnen; der nächste Lauf nimmt ihn an (nicht abgelehnt)"
        )
        return 1
    from connectors.portal import SubmissionInvalid, problem

    error = SubmissionInvalid(
        [
            problem(
                "encryption-issue",
                "Der Antrag ist für einen Schlüssel verschlüsselt, den diese Stelle nicht hat; "
                "bitte mit dem aktuellen Schlüssel der Stelle erneut einreichen.",
                instance=exc.part or "metadata",
                code=exc.code,
            )
        ]
    )
    receipt = source.reject(item, error)
    core = AmtsboteSettings()
    trail = AuditTrail(core.audit_path)
    details: dict[str, Any] = {"code": exc.code, "by": "admin"}
    if receipt is not None:
        details["receipt_sha256"] = trail.store_receipt(item.item_key, receipt.kind, receipt.token)[
            1
        ]
    trail.append(
        process=args.process,
        item_key=item.item_key,
        step="rejected-at-source",
        outcome="ok",
        details=details,
    )
    print(f"{item.item_key}: am Portal abgelehnt (encryption-issue, {exc.code})")
    return 0


def _portal(args: argparse.Namespace) -> int:
    try:
        source = _process(args.process).source()
    except (AmtsboteError, ValueError) as exc:
        print(f"amtsbote portal {args.cmd}: {exc}", file=sys.stderr)
        return 2
    try:
        return _list(source, args) if args.cmd == "held" else _reject(source, args)
    except AmtsboteError as exc:
        print(f"amtsbote portal {args.cmd}: {exc} [{exc.code}]", file=sys.stderr)
        return 2
    finally:
        source.close()


def add_portal_commands(sub: Any) -> None:
    """Add ``portal held`` and ``portal reject`` to the ``amtsbote`` parser."""
    portal = sub.add_parser("portal").add_subparsers(dest="cmd", required=True)
    h = portal.add_parser("held", help="submissions waiting for a key, with their age")
    h.add_argument("--process", default="hundesteuer")
    h.set_defaults(fn=_portal)
    r = portal.add_parser("reject", help="reject a held submission at the portal")
    r.add_argument("--process", default="hundesteuer")
    r.add_argument("item_key", metavar="SUBMISSION_ID")
    r.set_defaults(fn=_portal)
