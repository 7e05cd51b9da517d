from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
import structlog
from pydantic import SecretStr
from pydantic_settings import SettingsConfigDict

from amtsbote import MASK, AmtsboteSettings, Redactor, SecretSettings, configure_logging


class _DemoSettings(SecretSettings):
    model_config = SettingsConfigDict(env_prefix="AMTSBOTE_DEMOSYS_")
    client_secret: SecretStr = SecretStr("unset")


def test_redactor_masks_keys_nested_and_patterns() -> None:
    red = Redactor({"iban", "birth_date", "family_name"})
    event = {
        "event": "item failed for DE02120300000000202051 mail a.b@example.org",
        "familyName": "Weiß",
        "data": {"owner": {"birthDate": "1980-01-01"}, "count": 3},
        "items": [{"iban": "DE02120300000000202051"}],
    }
    out = red(None, "info", event)
    text = json.dumps(out, ensure_ascii=False)
    assert "Weiß" not in text and "1980-01-01" not in text
    assert "DE02120300000000202051" not in text and "a.b@example.org" not in text
    assert out["data"]["count"] == 3
    assert out["familyName"] == MASK


def test_logs_reach_json_file_redacted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AMTSBOTE_DEMOSYS_CLIENT_SECRET", "s3cr3t-value-xyz")
    _DemoSettings()  # loading registers the secret with the redactor
    settings = AmtsboteSettings(data_dir=tmp_path, console_logs=False)
    path = configure_logging(settings)
    assert path is not None
    log = structlog.get_logger("connectors.demo")
    log.info("token fetched", client_secret="s3cr3t-value-xyz", submission_id="abc-1")
    log.warning("upstream said s3cr3t-value-xyz", iban="DE02120300000000202051")
    try:
        raise RuntimeError("boom with s3cr3t-value-xyz")
    except RuntimeError:
        log.exception("failed", item_key="abc-1")
    logging.getLogger("bots.x").info("stdlib record with s3cr3t-value-xyz")
    for h in logging.getLogger("connectors").handlers:
        h.flush()
    text = path.read_text(encoding="utf-8")
    lines = [json.loads(x) for x in text.splitlines()]
    assert len(lines) == 4
    assert "s3cr3t-value-xyz" not in text and "DE02120300000000202051" not in text
    assert lines[0]["submission_id"] == "abc-1" and lines[0]["level"] == "info"
    assert "RuntimeError" in lines[2]["exception"]
