"""What `amtsbote draft-page` reads from a live screen: its controls by role and accessible name.

The source is Playwright's ARIA snapshot (``locator.aria_snapshot()``, the successor of the
deprecated ``page.accessibility.snapshot()``): roles and names as a person with a screen reader
meets them, nothing of ids or positions. Hidden tab panels are not in a snapshot, so each tab is
clicked and its panel read too (reading only: nothing is filled or submitted). Values of fields
are never read (they may be personal data); only roles, names and the table a control sits in.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from playwright.sync_api import Frame, Page

__all__ = ["Control", "ScreenReading", "read_screen"]

#: roles a page object gets a locator for
FIELD_ROLES = ("textbox", "searchbox", "combobox", "listbox", "spinbutton", "checkbox", "radio")
ROLES = (
    "heading", *FIELD_ROLES, "radiogroup", "button", "link", "table", "columnheader", "tab",
)  # fmt: skip

_LINE = re.compile(
    r'^(?P<indent>\s*)- (?P<role>[a-z]+)(?: (?P<name>"(?:[^"\\]|\\.)*"))?(?P<rest>.*)$'
)
_LEVEL = re.compile(r"\[level=(\d)\]")
#: Fields without an accessible name, named by the text a person reads beside them: the label
#: cell left in the same row, the element just above, or for a checkbox/radio the text right of
#: it (the rules of `bots.field_by_label`, which the drafted locator then uses).
_BESIDE_JS = r"""() => {
  const clean = t => (t || '').replace(/\s+/g, ' ').trim().replace(/\s*:$/, '');
  const named = el => el.labels && el.labels.length || el.getAttribute('aria-label')
    || el.getAttribute('aria-labelledby') || el.getAttribute('title');
  const visible = el => !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length);
  const out = [];
  for (const el of document.querySelectorAll('input, select, textarea')) {
    const type = (el.getAttribute('type') || 'text').toLowerCase();
    if (['hidden', 'submit', 'button', 'image', 'reset', 'file'].includes(type)) continue;
    if (named(el) || !visible(el)) continue;
    let text = '';
    if (type === 'checkbox' || type === 'radio') {
      text = clean(el.nextElementSibling && el.nextElementSibling.innerText);
    }
    const cell = el.closest('td, th');
    if (!text && cell && cell.previousElementSibling) {
      text = clean(cell.previousElementSibling.innerText);
    }
    if (!text) {
      let node = el;
      while (node && !node.previousElementSibling && node.parentElement
             && node.parentElement.children.length === 1) node = node.parentElement;
      const above = node && node.previousElementSibling;
      if (above && !above.querySelector('input, select, textarea')) text = clean(above.innerText);
    }
    if (!text) continue;
    const role = el.tagName === 'SELECT' ? 'combobox'
      : type === 'checkbox' ? 'checkbox' : type === 'radio' ? 'radio' : 'textbox';
    out.push([role, text]);
  }
  return out;
}"""
_KEY_HANDLERS_JS = """() => document.querySelectorAll(
  '[onkeydown],[onkeyup],[onkeypress],[oninput],[data-mask],[data-inputmask]').length"""


@dataclass(frozen=True)
class Control:
    """One control of the screen.

    Attributes:
        role: Its ARIA role (``textbox``, ``button``, ``table`` …).
        name: Its accessible name (the label, the button text).
        table: The name of the table it sits in (column headers, links in rows), if any.
        hidden: True if it sits in a tab panel that is closed when the screen opens.
        level: A heading's level.
        beside: True if the name is the text beside an unlabelled field (a legacy screen's
            label cell), not an associated label.
    """

    role: str
    name: str
    table: str | None = None
    hidden: bool = False
    level: int = 0
    beside: bool = False


@dataclass
class ScreenReading:
    """Everything read from one screen.

    Attributes:
        url: The page's address when read (the top page's, for a screen in a frame).
        controls: The named controls, in page order, each (role, name, table) once.
        unnamed: Roles of fields without an accessible name (no label associated).
        key_handlers: Number of elements with key handlers or input masks (these want `fill`).
    """

    url: str
    controls: list[Control] = field(default_factory=list)
    unnamed: list[str] = field(default_factory=list)
    key_handlers: int = 0

    def add(self, control: Control) -> None:
        """Add `control` unless a control of the same role, name and table is known."""
        for known in self.controls:
            if (known.role, known.name, known.table) == (control.role, control.name, control.table):
                return
        self.controls.append(control)


def read_screen(page: Page, *, frame: str | None = None) -> ScreenReading:
    """Read the controls of the screen shown in `page` (or in its frame named `frame`).

    Args:
        page: The page showing the screen (already loaded, logged in if needed).
        frame: The name of a frame (``<frame name>``/``<iframe name>``) holding the screen.

    Raises:
        ValueError: There is no frame of that name.
    """
    scope: Page | Frame = page
    if frame is not None:
        page.wait_for_load_state("load")  # frames are loaded by the page's load event
        found = page.frame(name=frame)
        if found is None:
            raise ValueError(f"Kein Frame namens {frame!r} auf {page.url}.")
        scope = found
    reading = ScreenReading(url=page.url)  # the screen's address, also when it is framed
    _parse(scope.locator(":root").aria_snapshot(), reading, hidden=False)
    tabs = scope.get_by_role("tab")
    for tab in tabs.all():
        name = tab.inner_text().strip()
        if tab.get_attribute("aria-selected") == "true":
            continue
        tab.click()
        panel = scope.get_by_role("tabpanel", name=name)
        if panel.count():
            _parse(panel.first.aria_snapshot(), reading, hidden=True)
    if tabs.count():  # back to the tab the screen opened with
        tabs.first.click()
    for role, name in scope.evaluate(_BESIDE_JS):
        if role in reading.unnamed:
            reading.unnamed.remove(role)  # named now, by the text beside it
        reading.add(Control(role, name, beside=True))
    reading.key_handlers = int(scope.evaluate(_KEY_HANDLERS_JS))
    return reading


def _parse(snapshot: str, reading: ScreenReading, *, hidden: bool) -> None:
    """Collect named controls from an ARIA snapshot; skip dialogs (notices come and go)."""
    tables: list[tuple[int, str]] = []
    skip_below: int | None = None
    for line in snapshot.splitlines():
        m = _LINE.match(line)
        if not m:
            continue
        depth = len(m.group("indent"))
        if skip_below is not None:
            if depth > skip_below:
                continue
            skip_below = None
        while tables and depth <= tables[-1][0]:
            tables.pop()
        role = m.group("role")
        name = json.loads(m.group("name")) if m.group("name") else ""
        if role in ("dialog", "alertdialog"):
            skip_below = depth
            continue
        if role not in ROLES:
            continue
        if not name.strip():
            if role in FIELD_ROLES:
                reading.unnamed.append(role)
            continue
        table = tables[-1][1] if tables else None
        level = _LEVEL.search(m.group("rest"))
        reading.add(Control(role, name.strip(), table, hidden, int(level.group(1)) if level else 0))
        if role == "table":
            tables.append((depth, name.strip()))
