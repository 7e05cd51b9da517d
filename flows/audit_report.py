"""Flow ``audit-report``: the day's audit events as a table artifact and a DOCX report.

For auditors: one row per business step (ids and outcomes only), the result of verifying the
hash chain, and the same as a Word document under ``<data_dir>/reports/``.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime
from io import BytesIO
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import docx
from prefect import flow
from prefect.artifacts import create_table_artifact

from amtsbote import AmtsboteSettings, AuditTrail
from flows._bridge import setup_logging

__all__ = ["audit_report", "build_report"]

BERLIN = ZoneInfo("Europe/Berlin")
COLUMNS = ("seq", "time", "process", "item_key", "step", "outcome", "bot_account")


def _day_of(event: dict[str, Any]) -> date:
    return datetime.fromisoformat(event["time"]).astimezone(BERLIN).date()


def build_report(trail: AuditTrail, day: date) -> tuple[list[dict[str, str]], str, bytes]:
    """Rows of `day`, the verify result, and the DOCX report."""
    result = trail.verify()
    rows = [{c: str(e.get(c) or "") for c in COLUMNS} for e in trail.events() if _day_of(e) == day]
    document = docx.Document()
    document.add_heading(f"Audit-Bericht {day:%d.%m.%Y}", level=1)
    document.add_paragraph(f"Prüfung der Hash-Kette: {result}")
    counts = Counter((r["step"], r["outcome"]) for r in rows)
    document.add_paragraph(f"{len(rows)} Ereignisse an diesem Tag.")
    summary = document.add_table(rows=1, cols=3)
    for cell, text in zip(summary.rows[0].cells, ("Schritt", "Ergebnis", "Anzahl"), strict=True):
        cell.text = text
    for (step, outcome), n in sorted(counts.items()):
        cells = summary.add_row().cells
        cells[0].text, cells[1].text, cells[2].text = step, outcome, str(n)
    document.add_heading("Ereignisse", level=2)
    table = document.add_table(rows=1, cols=len(COLUMNS))
    for cell, text in zip(table.rows[0].cells, COLUMNS, strict=True):
        cell.text = text
    for r in rows:
        for cell, c in zip(table.add_row().cells, COLUMNS, strict=True):
            cell.text = r[c]
    buf = BytesIO()
    document.save(buf)
    return rows, str(result), buf.getvalue()


@flow(name="audit-report", flow_run_name="audit-report-{day}")
def audit_report(day: date | None = None) -> dict[str, Any]:
    """Verify the audit trail and report one day's events (default: today, Europe/Berlin)."""
    setup_logging()
    day = day or datetime.now(BERLIN).date()
    settings = AmtsboteSettings()
    trail = AuditTrail(settings.audit_path)
    rows, verdict, report = build_report(trail, day)
    out: Path = settings.data_dir / "reports" / f"audit-{day.isoformat()}.docx"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(report)
    create_table_artifact(
        key="audit-report",
        table=rows or [dict.fromkeys(COLUMNS, "")],
        description=f"## Audit {day:%d.%m.%Y}\n\n{verdict}\n\nBericht: `{out}`",
    )
    return {"events": len(rows), "verify": verdict, "report": str(out)}
