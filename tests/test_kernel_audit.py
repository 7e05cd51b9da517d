from __future__ import annotations

import json
from pathlib import Path

import pytest

from amtsbote import AuditTrail, verify_trail


def _trail(tmp_path: Path, n: int = 6) -> AuditTrail:
    trail = AuditTrail(tmp_path / "audit" / "audit.jsonl")
    for i in range(n):
        trail.append(
            process="hundesteuer",
            item_key=f"sub-{i}",
            step="register",
            outcome="ok",
            bot_account="bot1",
            flow_run_id="run-1",
            details={"aktenzeichen": f"HSt-2026-{i:06d}"},
        )
    return trail


def _lines(trail: AuditTrail) -> list[str]:
    return trail.path.read_text(encoding="utf-8").splitlines(keepends=True)


def test_intact_chain_verifies(tmp_path: Path) -> None:
    trail = _trail(tmp_path)
    result = trail.verify()
    assert result.ok and result.lines == 6
    events = trail.events()
    assert [e["seq"] for e in events] == [1, 2, 3, 4, 5, 6]
    assert events[1]["prev"] == events[0]["hash"]


def test_edit_is_detected_at_that_line(tmp_path: Path) -> None:
    trail = _trail(tmp_path)
    lines = _lines(trail)
    event = json.loads(lines[2])
    event["outcome"] = "rejected"
    lines[2] = json.dumps(event) + "\n"
    trail.path.write_text("".join(lines), encoding="utf-8")
    result = verify_trail(trail.path)
    assert not result.ok and result.first_bad_line == 3
    assert "hash" in result.reason


def test_edit_with_recomputed_hash_breaks_the_next_line(tmp_path: Path) -> None:
    from amtsbote._audit import _digest

    trail = _trail(tmp_path)
    lines = _lines(trail)
    event = json.loads(lines[1])
    event["outcome"] = "rejected"
    event["hash"] = _digest(event)
    lines[1] = json.dumps(event) + "\n"
    trail.path.write_text("".join(lines), encoding="utf-8")
    result = verify_trail(trail.path)
    assert not result.ok and result.first_bad_line == 3


@pytest.mark.parametrize(
    ("mutate", "bad_line"),
    [
        (lambda ls: ls[:3] + ls[4:], 4),  # delete a line
        (lambda ls: ls[:2] + [ls[4]] + ls[2:4] + ls[5:], 3),  # reorder
        (lambda ls: ls[:2] + [ls[1]] + ls[2:], 3),  # insert (a copy)
        (lambda ls: ls[:-2], 5),  # drop the tail: caught by the head file
        (lambda ls: ls[:2] + ["{not json\n"] + ls[2:], 3),
    ],
    ids=["delete", "reorder", "insert", "truncate-tail", "garbage"],
)
def test_tampering_is_detected_and_named(tmp_path: Path, mutate, bad_line: int) -> None:
    trail = _trail(tmp_path)
    trail.path.write_text("".join(mutate(_lines(trail))), encoding="utf-8")
    result = verify_trail(trail.path)
    assert not result.ok
    assert result.first_bad_line == bad_line
    assert f"line {bad_line}" in str(result)


def test_personal_data_keys_are_refused(tmp_path: Path) -> None:
    trail = AuditTrail(tmp_path / "a.jsonl")
    with pytest.raises(ValueError, match="personal data"):
        trail.append(process="p", item_key="k", step="s", outcome="ok", details={"iban": "x"})
    with pytest.raises(ValueError, match="personal data"):
        trail.append(
            process="p", item_key="k", step="s", outcome="ok", details={"birthDate": "1990-01-01"}
        )
    assert trail.events() == []


def test_receipt_is_stored_with_hash(tmp_path: Path) -> None:
    trail = AuditTrail(tmp_path / "a.jsonl")
    path, digest = trail.store_receipt("sub/1", "accept", "eyJ.header.sig")
    assert path.read_text() == "eyJ.header.sig" and "/" not in path.name
    assert len(digest) == 64


def test_a_writer_killed_before_its_head_update_does_not_break_the_chain(tmp_path: Path) -> None:
    trail = AuditTrail(tmp_path / "audit.jsonl")
    trail.append(process="p", item_key="a", step="s", outcome="ok")
    head_before = trail.head_path.read_text(encoding="utf-8")
    trail.append(process="p", item_key="b", step="s", outcome="ok")
    trail.head_path.write_text(
        head_before, encoding="utf-8"
    )  # died after the line, before the head
    third = trail.append(process="p", item_key="c", step="s", outcome="ok")
    assert third["seq"] == 3
    assert verify_trail(trail.path).ok


def test_a_tampered_last_line_is_not_taken_as_the_head(tmp_path: Path) -> None:
    trail = AuditTrail(tmp_path / "audit.jsonl")
    trail.append(process="p", item_key="a", step="s", outcome="ok")
    head_before = trail.head_path.read_text(encoding="utf-8")
    trail.append(process="p", item_key="b", step="s", outcome="ok")
    trail.head_path.write_text(head_before, encoding="utf-8")
    lines = trail.path.read_text(encoding="utf-8").splitlines()
    lines[-1] = lines[-1].replace('"item_key":"b"', '"item_key":"x"')
    trail.path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    trail.append(process="p", item_key="c", step="s", outcome="ok")
    assert not verify_trail(trail.path).ok  # the edit stays visible
