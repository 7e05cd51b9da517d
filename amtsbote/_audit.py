"""Append-only, hash-chained audit trail (JSON lines) and its verification.

One event per business step: process, item key, step, outcome, bot account, flow run id, time.
Each line carries ``prev`` (the hash of the line before; 64 zeros for the first) and ``hash``
(SHA-256 over the canonical JSON of the line without ``hash``), and a running ``seq``. A head
file beside the trail (``audit.jsonl.head``) holds the last ``seq`` and ``hash``, so dropping
lines at the end is detected too, not only edits, inserts, deletes and reorders in the middle.

Audit events carry ids, codes and hashes only — never personal data: `AuditTrail.append`
refuses detail keys that name personal-data fields. Signed portal receipts (SETs) are stored as
files beside the trail and referenced from the event by their SHA-256.

Appends take an exclusive ``flock`` on the trail, so several processes on one machine may
write; several machines need one shared trail per process (or one trail each).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from amtsbote._redact import normalize_key
from amtsbote._settings import PERSONAL_DATA_FIELDS

__all__ = ["AuditTrail", "VerifyResult", "verify_trail", "GENESIS"]

GENESIS = "0" * 64
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]")
_FIELDS = (
    "seq",
    "time",
    "process",
    "item_key",
    "step",
    "outcome",
    "bot_account",
    "flow_run_id",
    "details",
    "prev",
)


def _canonical(event: Mapping[str, Any]) -> bytes:
    body = {k: event.get(k) for k in _FIELDS}
    return json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def _digest(event: Mapping[str, Any]) -> str:
    return hashlib.sha256(_canonical(event)).hexdigest()


@dataclass(frozen=True)
class VerifyResult:
    """Outcome of `verify_trail`: ok, good lines, and the first bad line (1-based)."""

    ok: bool
    lines: int
    first_bad_line: int | None = None
    reason: str = ""

    def __str__(self) -> str:
        if self.ok:
            return f"audit trail OK: {self.lines} events, chain intact"
        return f"audit trail BROKEN at line {self.first_bad_line}: {self.reason}"


class AuditTrail:
    """The audit trail of one installation (one file, append-only)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.head_path = self.path.with_name(self.path.name + ".head")
        self.receipts_dir = self.path.parent / "receipts"

    @contextlib.contextmanager
    def _locked(self) -> Iterator[IO[str]]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a+", encoding="utf-8") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield fh
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def _head(self, fh: IO[str] | None = None) -> tuple[int, str]:
        """The last ``seq`` and ``hash``; with the locked trail `fh`, caught up with its end.

        A writer killed after its line reached the disk but before the head was replaced
        leaves the head one event behind. The next writer takes that last line as the head
        when it follows the head's event by exactly one and its hash is intact, so the chain
        goes on instead of repeating the ``seq``.
        """
        try:
            data = json.loads(self.head_path.read_text(encoding="utf-8"))
            seq, prev = int(data["seq"]), str(data["hash"])
        except FileNotFoundError:
            seq, prev = 0, GENESIS
        last = _last_event(fh) if fh is not None else None
        if (
            last is not None
            and last.get("seq") == seq + 1
            and last.get("prev") == prev
            and last.get("hash") == _digest({k: v for k, v in last.items() if k != "hash"})
        ):
            return seq + 1, str(last["hash"])
        return seq, prev

    def append(
        self,
        *,
        process: str,
        item_key: str,
        step: str,
        outcome: str,
        bot_account: str | None = None,
        flow_run_id: str | None = None,
        details: Mapping[str, str | int | float | bool | None] | None = None,
    ) -> dict[str, Any]:
        """Append one event and return it (with ``seq``, ``prev`` and ``hash``).

        Raises:
            ValueError: A detail key names a personal-data field, or a value is not a scalar.
        """
        details = dict(details or {})
        for key, value in details.items():
            if normalize_key(key) in PERSONAL_DATA_FIELDS:
                raise ValueError(f"audit details must not hold personal data (key {key!r})")
            if not isinstance(value, str | int | float | bool | type(None)):
                raise ValueError(f"audit detail {key!r} must be a scalar")
        with self._locked() as fh:
            seq, prev = self._head(fh)
            event: dict[str, Any] = {
                "seq": seq + 1,
                "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
                "process": process,
                "item_key": item_key,
                "step": step,
                "outcome": outcome,
                "bot_account": bot_account,
                "flow_run_id": flow_run_id,
                "details": details,
                "prev": prev,
            }
            event["hash"] = _digest(event)
            fh.seek(0, os.SEEK_END)
            fh.write(json.dumps(event, ensure_ascii=False, separators=(",", ":")) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
            tmp = self.head_path.with_suffix(".tmp")
            tmp.write_text(json.dumps({"seq": event["seq"], "hash": event["hash"]}), "utf-8")
            os.replace(tmp, self.head_path)
        return event

    def store_receipt(self, item_key: str, kind: str, token: str) -> tuple[Path, str]:
        """Keep a signed receipt (e.g. the accept SET) beside the trail; return path, SHA-256."""
        self.receipts_dir.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256(token.encode()).hexdigest()
        name = f"{_SAFE_NAME.sub('_', item_key)}.{_SAFE_NAME.sub('_', kind)}.jwt"
        path = self.receipts_dir / name
        path.write_text(token, encoding="utf-8")
        return path, digest

    def events(self) -> list[dict[str, Any]]:
        """All events, parsed (no verification)."""
        if not self.path.exists():
            return []
        lines = self.path.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines if line.strip()]

    def verify(self) -> VerifyResult:
        return verify_trail(self.path)


def _last_event(fh: IO[str]) -> dict[str, Any] | None:
    """The trail's last complete line as an event, or None (empty, partial or unreadable)."""
    raw = fh.buffer if hasattr(fh, "buffer") else None
    if raw is None:
        return None
    end = raw.seek(0, os.SEEK_END)
    if end == 0:
        return None
    raw.seek(max(0, end - 65536))
    tail = raw.read()
    if not tail.endswith(b"\n"):
        return None
    line = tail[:-1].rsplit(b"\n", 1)[-1]
    try:
        event = json.loads(line.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    return event if isinstance(event, dict) else None


def verify_trail(path: Path) -> VerifyResult:
    """Recompute the chain of the trail at `path` and name the first bad line (1-based)."""
    path = Path(path)
    head_path = path.with_name(path.name + ".head")
    if not path.exists():
        if head_path.exists():
            return VerifyResult(False, 0, 1, "trail file missing but head exists")
        return VerifyResult(True, 0)
    prev, seq = GENESIS, 0
    lineno = 0
    with open(path, encoding="utf-8") as fh:
        for lineno, raw in enumerate(fh, start=1):
            try:
                event = json.loads(raw)
            except json.JSONDecodeError:
                return VerifyResult(False, lineno - 1, lineno, "not valid JSON")
            if not isinstance(event, dict):
                return VerifyResult(False, lineno - 1, lineno, "not a JSON object")
            if event.get("hash") != _digest(event):
                return VerifyResult(False, lineno - 1, lineno, "content does not match its hash")
            if event.get("prev") != prev:
                return VerifyResult(
                    False,
                    lineno - 1,
                    lineno,
                    "chain broken: a line before was removed, inserted or reordered",
                )
            if event.get("seq") != seq + 1:
                return VerifyResult(
                    False,
                    lineno - 1,
                    lineno,
                    f"sequence {event.get('seq')} where {seq + 1} was expected",
                )
            prev, seq = event["hash"], event["seq"]
    try:
        head = json.loads(head_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        head = None
    if head is not None and (head.get("seq") != seq or head.get("hash") != prev):
        return VerifyResult(
            False,
            lineno,
            lineno + 1,
            f"trail ends at event {seq}, head records event "
            f"{head.get('seq')}: lines at the end were removed",
        )
    return VerifyResult(True, lineno)
