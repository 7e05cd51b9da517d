"""Evidence of a failing item: masked screenshot, redacted page HTML and Playwright trace.

Only failures leave evidence (DSGVO: successful items keep no pictures of citizens' data). The
folder is ``<evidence_dir>/<run_id>/<item_key>/`` and file names carry only the item key (the
submission id), never a name.
"""

from __future__ import annotations

import re
from pathlib import Path

import structlog
from playwright.sync_api import BrowserContext, Locator, Page

__all__ = ["REDACTED", "safe_key", "write_evidence"]

log = structlog.get_logger(__name__)

REDACTED = "[geschwärzt]"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")

_REDACT_JS = """(els, marker) => {
  for (const el of els) {
    if ('value' in el && el.tagName !== 'SELECT') {
      el.value = marker;
      el.setAttribute('value', marker);
    } else {
      el.textContent = marker;
    }
  }
}"""


def safe_key(key: str) -> str:
    """`key` reduced to characters safe in a file name (no path separators)."""
    cleaned = _UNSAFE.sub("_", key).strip("._")
    return cleaned[:120] or "item"


def write_evidence(
    folder: Path,
    key: str,
    page: Page | None,
    context: BrowserContext | None,
    personal: list[Locator],
    *,
    tracing: bool,
) -> Path:
    """Write what is left of a failing item to `folder` and return it.

    Each part is best effort: a crashed page still yields its trace, a closed context still
    yields the folder. The screenshot masks `personal`; the HTML has their values replaced by
    ``[geschwärzt]`` (the DOM is changed only after the screenshot, on a page that failed).

    Args:
        folder: ``<evidence_dir>/<run_id>/<item_key>``.
        key: The item key (used in file names).
        page: The bot's page, if still usable.
        context: The context whose tracing runs, if any.
        personal: Locators of fields with personal data.
        tracing: Whether this item's trace is being recorded on `context` (it is stopped
            and written).
    """
    folder.mkdir(parents=True, exist_ok=True)
    name = safe_key(key)
    written: list[str] = []
    if page is not None and not page.is_closed():
        try:
            page.screenshot(
                path=folder / f"{name}-screenshot.png",
                full_page=True,
                mask=personal,
                mask_color="#000000",
                animations="disabled",
                timeout=5_000,
            )
            written.append("screenshot")
        except Exception:  # noqa: BLE001 - evidence is best effort, the item's error counts
            log.warning("evidence.screenshot_failed", item=name)
        try:
            for locator in personal:
                if locator.count():
                    locator.evaluate_all(_REDACT_JS, REDACTED)
            (folder / f"{name}-page.html").write_text(page.content(), encoding="utf-8")
            written.append("html")
        except Exception:  # noqa: BLE001
            log.warning("evidence.html_failed", item=name)
    if context is not None and tracing:
        try:
            context.tracing.stop(path=folder / f"{name}-trace.zip")
            written.append("trace")
        except Exception:  # noqa: BLE001
            log.warning("evidence.trace_failed", item=name)
    log.info("evidence.written", item=name, parts=written)
    return folder
