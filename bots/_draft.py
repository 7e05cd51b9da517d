"""`amtsbote draft-page`: a `PageObject` subclass drafted from a live screen.

Writing a page object starts with reading the screen: which heading, which labelled fields,
which buttons, links and tables. The draft does that reading (`bots._draft_read`) and writes
Python a developer then edits: one class with ``screen`` and ``path``, locators by role, label
and visible text only (never ids, CSS positions or ``nth``), `required_locators` for the canary,
a guess at `personal_fields` (names, dates of birth, addresses, IBAN-like and e-mail fields by
their labels) and a comment on the input method. The draft imports and passes the canary on
the screen it was drafted from without edits; its verbs (fill, submit) are left to the author.
"""

from __future__ import annotations

import json
import keyword
import re
import unicodedata
from collections.abc import Callable
from urllib.parse import urlparse

from playwright.sync_api import Page

from ._draft_read import FIELD_ROLES, Control, ScreenReading, read_screen
from ._pages import PageObject
from ._session import BrowserSession

__all__ = ["draft_page", "draft_source", "generic_login"]

_PERSONAL = re.compile(
    r"name|geburt|stra(ß|ss)e|anschrift|adresse|hausnummer|postleitzahl|\bplz\b|\bort\b|"
    r"wohnort|e-?mail|iban|\bbic\b|konto|telefon|mobil|steuer-?nummer|steuerpflichtig|"
    r"passwort|kennwort|transponder",
    re.IGNORECASE,
)
_SUFFIX = {
    "heading": "heading", "button": "button", "link": "link", "table": "table",
    "tab": "tab", "radiogroup": "group", "radio": "option", "columnheader": "column",
}  # fmt: skip
_RESERVED = set(dir(PageObject)) | {"page", "root", "screen", "path"}
_UMLAUTS = str.maketrans(
    {"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue", "ß": "ss"}
)


def _words(text: str) -> list[str]:
    ascii_text = unicodedata.normalize("NFKD", text.translate(_UMLAUTS))
    ascii_text = ascii_text.encode("ascii", "ignore").decode()
    return [w for w in re.split(r"[^A-Za-z0-9]+", ascii_text) if w]


def _class_name(screen: str) -> str:
    words = _words(screen) or ["Screen"]
    name = "".join(w[:1].upper() + w[1:] for w in words)
    return ("Screen" + name if name[0].isdigit() else name) + "Page"


class _Names:
    """Python attribute names and report labels, each unique within the class."""

    def __init__(self) -> None:
        self.attrs: set[str] = set()
        self.labels: set[str] = set()

    def attr(self, control: Control) -> str:
        base = "_".join(w.lower() for w in _words(control.name)) or control.role
        if control.role in _SUFFIX and control.role not in FIELD_ROLES:
            base = f"{base}_{_SUFFIX[control.role]}"
        if base[0].isdigit() or keyword.iskeyword(base) or base in _RESERVED:
            base = f"f_{base}"
        name, n = base, 2
        while name in self.attrs:
            name, n = f"{base}_{n}", n + 1
        self.attrs.add(name)
        return name

    def label(self, control: Control) -> str:
        label = control.name
        if label in self.labels:
            label = (
                f"{control.table}: {control.name}" if control.table else f"{label} ({control.role})"
            )
        base, n = label, 2
        while label in self.labels:
            label, n = f"{base} {n}", n + 1
        self.labels.add(label)
        return label


def _q(text: str) -> str:
    """A double-quoted Python string literal (JSON's escapes are Python's)."""
    return json.dumps(text, ensure_ascii=False)


def _assign(attr: str, expr: str, note: str = "") -> list[str]:
    """``self.attr = expr`` in lines of at most 100 characters (a comment line before)."""
    lines = [f"        # {note}"] if note else []
    line = f"        self.{attr} = {expr}"
    if len(line) <= 100:
        return [*lines, line]
    return [*lines, f"        self.{attr} = (", f"            {expr}", "        )"]


def _locator(control: Control, scope: str, tables: dict[str, str], framed: bool) -> str:
    """The Python expression of the control's locator (by role, label or name; exact)."""
    name = _q(control.name)
    hidden = ", include_hidden=True" if control.hidden else ""
    if control.table and control.role != "table" and control.table in tables:
        return (
            f'self.{tables[control.table]}.get_by_role("{control.role}", name={name}, exact=True)'
        )
    if control.beside:
        # No label is associated: found by the text of its label cell or the text beside it.
        return f"self.labelled({name}, within=self.root)" if framed else f"self.labelled({name})"
    if not framed and not control.hidden:
        if control.role == "heading":
            return f"self.heading_named({name})"
        if control.role == "button":
            return f"self.button_named({name})"
    if control.role in FIELD_ROLES and control.role != "radio":
        # By its label; a label finds a field in a closed tab panel too (the canary counts it).
        return f"{scope}.get_by_label({name}, exact=True)"
    return f'{scope}.get_by_role("{control.role}", name={name}, exact=True{hidden})'


def draft_source(
    reading: ScreenReading,
    *,
    login_heading: str | None = None,
    frame: str | None = None,
    class_name: str | None = None,
) -> str:
    """Python source of a `PageObject` subclass for the screen `reading` describes.

    Args:
        reading: What `read_screen` found.
        login_heading: The heading of the system's login page (tells an expired session).
        frame: The frame the screen sits in, if any (its locators are scoped to it).
        class_name: The class's name; by default from the screen's heading.
    """
    headings = [c for c in reading.controls if c.role == "heading"]
    main = min(headings, key=lambda c: c.level or 9) if headings else None
    screen = main.name if main else (urlparse(reading.url).path or "Seite")
    cls = class_name or _class_name(screen)
    path = urlparse(reading.url).path or "/"
    names = _Names()
    scope = "self.root" if frame else "page"
    tables: dict[str, str] = {}
    lines: list[str] = []
    required: list[tuple[str, str]] = []
    personal: list[str] = []
    heading_attr = None
    controls = [c for c in reading.controls if c.role != "heading" or c is main]
    for control in controls:
        attr = "heading" if control is main else names.attr(control)
        if control is main:
            names.attrs.add("heading")
            heading_attr = attr
        expr = _locator(control, scope, tables, frame is not None)
        if control.role == "table":
            tables[control.name] = attr
        note = "in a closed tab panel: `self.reveal()` it before use" if control.hidden else ""
        lines += _assign(attr, expr, note)
        required.append((names.label(control), attr))
        is_field = control.role in FIELD_ROLES or control.role == "table"
        if is_field and (control.role == "table" or _PERSONAL.search(control.name)):
            personal.append(attr)
    out = [
        f'"""Page object of the screen {_q(screen)}.',
        "",
        f"Drafted from the live screen ``{path}`` by `amtsbote draft-page`: check the names,",
        "drop what the bot does not need, add the verbs (fill, submit, read). Locators by role,",
        'label and visible text only."""',
        "",
        "from __future__ import annotations",
        "",
        "from typing import ClassVar",
        "",
        "from playwright.sync_api import Locator, Page",
        "",
        "from bots import PageObject",
        "",
        f'__all__ = ["{cls}"]',
        "",
        "",
        f"class {cls}(PageObject):",
        f'    """``{path}``: {screen}."""',
        "",
        f"    screen: ClassVar[str] = {_q(screen)}",
        f"    path: ClassVar[str] = {_q(path)}",
    ]
    if login_heading:
        out.append(f"    login_heading: ClassVar[str | None] = {_q(login_heading)}")
    out += ["", *_input_method_comment(reading), "", "    def __init__(self, page: Page) -> None:"]
    out.append("        super().__init__(page)")
    if frame:
        out.append(f"        self.root = page.frame_locator({_q(f'[name={_q(frame)}]')})")
    out += lines
    out += [
        "",
        "    def landmark(self) -> Locator:",
        "        return self." + (heading_attr or required[0][1] if required else "heading"),
    ]
    out += ["", "    def required_locators(self) -> dict[str, Locator]:", "        return {"]
    out += [f"            {_q(label)}: self.{attr}," for label, attr in required]
    out += ["        }", "", "    def personal_fields(self) -> list[Locator]:"]
    out.append(
        "        # Guessed from the labels (names, dates of birth, addresses, IBAN, e-mail)."
    )
    if personal:
        out += ["        return [", *(f"            self.{a}," for a in personal), "        ]", ""]
    else:
        out += ["        return []", ""]
    if reading.unnamed:
        out.insert(
            len(out) - 1,
            f"    # Not drafted: {len(reading.unnamed)} field(s) without a label "
            f"({', '.join(sorted(set(reading.unnamed)))}); find them by the text beside them.",
        )
    return "\n".join(out)


def _input_method_comment(reading: ScreenReading) -> list[str]:
    if reading.key_handlers:
        return [
            f"    # Input method: fill. {reading.key_handlers} element(s) have key handlers or an",
            "    # input mask; they need keystrokes (Playwright's `fill`), not a DOM value set.",
        ]
    return [
        "    # Input method: fill (Playwright's actionable fill/click). No key handlers or input",
        "    # masks were found, so setting the whole form in one call would do as well.",
    ]


def generic_login(page: Page, username: str, password: str) -> None:
    """Log in on a page with fields "Benutzername"/"Passwort" and the button "Anmelden"."""
    page.get_by_label(re.compile(r"^\s*Benutzer(name)?\s*:?\s*$", re.IGNORECASE)).fill(username)
    page.get_by_label(re.compile(r"^\s*(Passwort|Kennwort)\s*:?\s*$", re.IGNORECASE)).fill(password)
    with page.expect_navigation(wait_until="domcontentloaded"):
        page.get_by_role("button", name=re.compile(r"^\s*Anmelden\s*:?\s*$", re.IGNORECASE)).click()


def draft_page(
    session: BrowserSession,
    url: str,
    *,
    account: tuple[str, str] | None = None,
    login: Callable[[Page, str, str], None] = generic_login,
    frame: str | None = None,
) -> str:
    """Open `url` headless (logging in first if `account` is given) and draft its page object.

    Args:
        session: The browser session (the project's Chromium settings).
        url: The screen's address.
        account: (user name, password) to log in with when the screen asks for a login.
        login: Fills the login page; by default `generic_login`.
        frame: The name of the frame holding the screen.

    Returns:
        The Python source of the draft.
    """
    context = session.new_context()
    try:
        page = context.new_page()
        page.goto(url, wait_until="domcontentloaded")
        login_heading = None
        if account is not None:
            heading = page.get_by_role("heading", level=1)
            login_heading = heading.first.inner_text().strip() if heading.count() else None
            login(page, *account)
            if urlparse(page.url).path != urlparse(url).path:
                page.goto(url, wait_until="domcontentloaded")
        return draft_source(
            read_screen(page, frame=frame), login_heading=login_heading, frame=frame
        )
    finally:
        context.close()
