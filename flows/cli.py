"""The ``amtsbote`` command: what admins and auditors run by hand.

amtsbote audit verify [--path FILE]     recompute the hash chain, name the first bad line
amtsbote audit report [--day YYYY-MM-DD] write the day's DOCX report (no Prefect server needed)
amtsbote evidence purge [--days N]      delete evidence folders older than the retention
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from datetime import date
from pathlib import Path

from amtsbote import AmtsboteSettings, AuditTrail, verify_trail

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
    args = parser.parse_args(argv)
    return int(args.fn(args))


if __name__ == "__main__":
    sys.exit(main())
