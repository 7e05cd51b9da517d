"""The leak scan: every text a run leaves behind, searched for citizens' data and secrets.

Sources: the framework's JSON log files, the Prefect run logs, artifacts, flow/task run names and
parameters (read through the Prefect API), the audit trail and its stored receipts, the names of
evidence files, and the audit report DOCX. Evidence *contents* are the one place allowed to hold
page HTML (written only on failure, masked, purged after the retention period), so only their
names are scanned.
"""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import docx
from prefect.client.orchestration import get_client

from tests.flows.conftest import Musterstadt

_PAGE = 200


@dataclass(frozen=True)
class Needle:
    what: str  # e.g. "iban of <submission id>" (never the value itself in messages)
    value: str


def person_needles(sid: str, data: dict[str, Any]) -> list[Needle]:
    """Personal data of one application: names, birth date (ISO and TT.MM.JJJJ), IBAN, address,
    e-mail."""
    owner = data.get("owner") or {}
    sepa = data.get("sepaMandate") or {}
    out: list[Needle] = []

    def add(what: str, value: Any) -> None:
        if isinstance(value, str) and len(value.strip()) >= 4:
            out.append(Needle(f"{what} of {sid}", value))

    given, family = owner.get("givenName"), owner.get("familyName")
    if isinstance(given, str) and isinstance(family, str):
        add("full name", f"{given} {family}")
        add("list name", f"{family}, {given}")
    born = owner.get("birthDate")
    if isinstance(born, str):
        add("birth date", born)
        try:
            add("birth date (de)", f"{date.fromisoformat(born):%d.%m.%Y}")
        except ValueError:
            pass
    add("iban", sepa.get("iban"))
    if isinstance(owner.get("street"), str):
        add("address", f"{owner['street']} {owner.get('houseNumber', '')}".strip())
    add("e-mail", owner.get("email"))
    return out


def portal_tokens(town: Musterstadt) -> list[str]:
    """Access tokens the portal issued and still knows (read from the served app's core)."""
    port = town.portal.base_url.rsplit(":", 1)[1]
    for thread in threading.enumerate():
        if thread.name == f"sandbox-{port}":
            server = getattr(thread, "_target", None)
            app = getattr(getattr(server, "__self__", None), "config", None)
            portal = getattr(getattr(getattr(app, "app", None), "state", None), "portal", None)
            if portal is not None:
                return list(portal._tokens)
    return []


def secret_needles(town: Musterstadt) -> list[Needle]:
    """Every secret the framework handles in the town."""
    out = [
        Needle("portal receiver client secret", town.portal.receiver.client_secret),
        Needle("portal sender client secret", town.portal.sender.client_secret),
        Needle("e-Akte token", town.eakte.token),
    ]
    out += [Needle(f"password of {u}", p) for u, p in town.steuer.accounts.items()]
    for name, jwk in town.portal.receiver_keys.items():
        for part in ("d", "p", "q"):
            if isinstance(jwk.get(part), str):
                out.append(Needle(f"private key part {part} of {name}", jwk[part]))
    out += [Needle("portal access token", t) for t in portal_tokens(town)]
    return out


def _docx_text(content: bytes) -> str:
    document = docx.Document(io.BytesIO(content))
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts.extend(cell.text for cell in row.cells)
    return "\n".join(parts)


def _paged(read: Any) -> Iterator[Any]:
    offset = 0
    while True:
        page = read(limit=_PAGE, offset=offset)
        yield from page
        if len(page) < _PAGE:
            return
        offset += _PAGE


def prefect_texts(since: datetime) -> Iterator[tuple[str, str]]:
    """Run logs, artifacts, flow/task run names and parameters, and every run input (the
    pause forms a clerk sees: their schema, description and answers) from the Prefect API,
    from `since` on (the server is shared by the whole test session)."""

    def recent(when: datetime | None) -> bool:
        return when is None or when >= since

    with get_client(sync_client=True) as client:
        for entry in _paged(lambda **kw: client.read_logs(**kw)):
            if recent(entry.timestamp):
                yield "prefect log", entry.message
        for artifact in _paged(lambda **kw: client.read_artifacts(**kw)):
            if recent(artifact.created):
                yield f"artifact {artifact.key}", f"{artifact.description or ''}\n{artifact.data!s}"
        for run in _paged(lambda **kw: client.read_flow_runs(**kw)):
            if recent(run.created):
                yield "flow run", f"{run.name} {run.parameters!s} {run.tags!s}"
                for entry in client.filter_flow_run_input(run.id, "", 200, set()):
                    yield "run input", f"{entry.key}: {entry.value}"
        for task_run in _paged(lambda **kw: client.read_task_runs(**kw)):
            if recent(task_run.created):
                yield "task run", f"{task_run.name} {task_run.tags!s}"


def file_texts(data_dir: Path) -> Iterator[tuple[str, str]]:
    """Log files, the audit trail and receipts, evidence file names, report DOCX texts."""
    for path in sorted(data_dir.rglob("*")):
        rel = path.relative_to(data_dir)
        yield "file name", str(rel)
        if not path.is_file() or rel.parts[0] == "evidence":
            continue
        if path.suffix == ".docx":
            yield f"report {rel}", _docx_text(path.read_bytes())
        else:
            yield f"file {rel}", _unescaped(path.read_text(encoding="utf-8", errors="replace"))


def _unescaped(text: str) -> str:
    """JSON lines re-serialised without ``\\uXXXX`` escapes, so "Weiß" matches in any form."""
    out = [text]
    for line in text.splitlines():
        try:
            out.append(json.dumps(json.loads(line), ensure_ascii=False))
        except ValueError:
            continue
    return "\n".join(out)


@dataclass
class LeakReport:
    texts: int
    characters: int
    hits: list[str]


def scan(texts: Iterable[tuple[str, str]], needles: list[Needle]) -> LeakReport:
    """Search every text for every needle (case-insensitive); hits name the source and kind."""
    hits: list[str] = []
    n = chars = 0
    lowered = [(needle, needle.value.casefold()) for needle in needles]
    for source, text in texts:
        n += 1
        chars += len(text)
        low = text.casefold()
        for needle, value in lowered:
            if value in low:
                hits.append(f"{needle.what} in {source}")
    return LeakReport(n, chars, hits)
