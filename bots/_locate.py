"""Meaning-locators that read a screen the way a person does, so a release does not break a bot.

A re-skinned back office keeps its labels but changes everything around them: generated ids,
row order, the ``for=`` link between a label and its input, the spelling of a button
("Anmelden:", "SPEICHERN"). A person still finds the field "Benutzername" — by the text beside
or above it — and so do these locators. They are built from Playwright locators only (role,
label, visible text, and XPath steps relative to a visible text), never from ids, CSS positions
or ``nth()``, and they stay lazy: built once in a page object's ``__init__``, resolved on use.

What they tolerate: case, surrounding whitespace (also non-breaking spaces), inner runs of
whitespace, and a trailing colon or asterisk ("Benutzername :", "IBAN*"). What they do not: any
other difference of text. A name matches the whole text after this normalisation ("Name" never
matches "Name des Hundes"), so each locator still finds exactly one field.

What a field without a label of its own is found by (`field_by_label`): the text in its cell or
element; the element right before it (or before the element holding it) in the same parent, so
left of it or above it (``<label>Ort</label><br><input>``, ``<div>Ort</div><div><input></div>``);
the label cell left of its cell in the same row; for a checkbox or radio the text right of it;
and in a grid, the caption of its column. A grid is a table with a row of captions (``th`` or
``td`` cells, no control in that row) above rows of inputs in the same columns; columns are
counted with ``colspan``, for the first 12 columns (each one lengthens every field selector). A
caption names the controls in its columns in the two rows below its row, and finds its field
when that is exactly one. A list with a field in each row, a caption over two inputs and two
columns of one caption all match several fields: an error when used (Playwright's strict mode;
``simulate`` and `bots.look` report the label as found twice), never a guess. A caption row in
``<thead>`` over rows in ``<tbody>``, and ``rowspan``, are not read as a grid. A control with a
label of its own is never found by a neighbour's text or a caption, only by its label.

Every helper takes a *scope*: a `Page`, a `Frame`, a `FrameLocator` (a frame of a frameset or
an iframe, see `frame_named`) or a `Locator` (a region of a page), so the same calls work in
frames and in pop-up windows (the `Page` from ``context.expect_page()``).
"""

from __future__ import annotations

import re
from typing import TypeAlias

from playwright.sync_api import Frame, FrameLocator, Locator, Page

__all__ = [
    "Scope",
    "button_by_name",
    "field_by_label",
    "frame_named",
    "heading_by_name",
    "link_by_name",
    "name_pattern",
    "role_by_name",
]

Scope: TypeAlias = Page | Frame | FrameLocator | Locator
"""Where a locator looks: a page, a frame (also a `FrameLocator`) or a region of a page."""

_TRAILING = r"[\s\u00a0:*]*"

# A control a person types into or picks from (not buttons, not hidden inputs).
_TEXTLIKE = (
    "(self::input[not(@type='hidden' or @type='submit' or @type='button' or @type='image'"
    " or @type='reset' or @type='checkbox' or @type='radio')] or self::select or self::textarea)"
)
_CHECKABLE = "self::input[@type='checkbox' or @type='radio']"
# A control that has a label of its own is found by that label (`get_by_label`), never by the
# text of a neighbour: the neighbour may be the label of the next control.
_UNLABELLED = (
    "not(@aria-label) and not(@aria-labelledby) and not(ancestor::label)"
    " and not(@id and @id = //label/@for)"
)
_FIELD = f"({_TEXTLIKE} or {_CHECKABLE}) and {_UNLABELLED}"
_TEXT_FIELD = f"{_TEXTLIKE} and {_UNLABELLED}"
_CHECK_FIELD = f"{_CHECKABLE} and {_UNLABELLED}"
_NEXT = "following-sibling::*[not(self::br)][1]"
_PREVIOUS = "preceding-sibling::*[not(self::br)][1]"
_CELL = "ancestor-or-self::*[self::td or self::th][1]"

# From an element whose whole visible text is the label, the control it names:
_BESIDE_TEXT = " | ".join(
    (
        # the text and its control in one element: <td>Benutzername: <input></td>
        f"descendant::*[{_FIELD}]",
        # the control right after the text, or below it: <label>Ort</label><br><input>
        f"{_NEXT}[{_TEXT_FIELD}]",
        # the control in the element after the text: <div>Ort</div><div><input></div>
        f"{_NEXT}/descendant::*[{_TEXT_FIELD}]",
        # a label cell and the cell beside it: <td>Benutzername</td><td><input></td>
        f"{_CELL}/following-sibling::*[1]/descendant::*[{_FIELD}]",
        # a checkbox or radio reads its text on the right: <input type=checkbox> Versichert
        f"{_PREVIOUS}[{_CHECK_FIELD}]",
        f"{_CELL}/preceding-sibling::*[1][not(normalize-space())]/descendant::*[{_CHECK_FIELD}]",
    )
)

# A grid, in two steps, so that a label beside its field never pays for the second one:
# <tr><th>Name</th><th>Vorname</th></tr><tr><td><input></td><td><input></td></tr>
# 1. from the element whose whole text is the label, its cell in a row of captions (a row
#    without controls: a row with one is a row of labels beside their fields);
_CAPTION_CELL = (
    f"{_CELL}[not(parent::tr/descendant::*[self::select or self::textarea or self::input[not("
    "@type='hidden' or @type='submit' or @type='button' or @type='image' or @type='reset')]])]"
)
# 2. from that cell, the controls in its columns in the two rows below (a list with a control
#    in each row names several: ambiguous). A column is counted with ``colspan``. XPath 1.0 has
#    no variables to carry a column number from the caption to the row below: each column is
#    one branch, for the first `_GRID_COLUMNS` columns.
_GRID_COLUMNS = 12
_START = "(sum(preceding-sibling::*/@colspan) + count(preceding-sibling::*[not(@colspan)]))"
_SPAN = "(1 + sum(@colspan) - count(@colspan))"


def _below_caption(column: int) -> str:
    """From a caption cell spanning `column`, the cells spanning it in the two rows below."""
    covers = f"floor(({column - 1} - {_START}) div {_SPAN}) = 0"  # 0 <= column-1-start < span
    return f"self::*[{covers}]/../following-sibling::tr[position() < 3]/*[{covers}]"


_BELOW_CAPTION = (
    "(" + " | ".join(_below_caption(c) for c in range(1, _GRID_COLUMNS + 1)) + ")"
    f"/descendant::*[{_FIELD}]"
)

#: The XPath rules of `field_by_label` for the one-call DOM paths (`bots._simulate`,
#: `bots._dom`): the controls of a text are ``beside`` ∪ ``below`` of each of its ``caption``.
_FIELD_RULES = {"beside": _BESIDE_TEXT, "caption": _CAPTION_CELL, "below": _BELOW_CAPTION}


def name_pattern(text: str) -> re.Pattern[str]:
    """The tolerant pattern of a label or name: whole text, any case, trailing colon allowed.

    Args:
        text: The text as a person reads it (e.g. ``"Benutzername"``).

    Returns:
        A case-insensitive pattern for the whole text, with surrounding whitespace, inner runs
        of whitespace and a trailing ``:`` or ``*`` tolerated.

    Raises:
        ValueError: `text` is empty.
    """
    words = re.sub(r"[\s\u00a0:*]+$", "", text).split()  # "Name:" as given means "Name"
    if not words:
        raise ValueError("Ein Locator braucht eine Beschriftung (leerer Text).")
    body = r"[\s\u00a0]+".join(re.escape(w) for w in words)
    return re.compile(rf"^[\s\u00a0]*{body}{_TRAILING}$", re.IGNORECASE)


def field_by_label(scope: Scope, label: str) -> Locator:
    """The form control (input, select, textarea, checkbox, radio) named by `label`.

    Found by its associated label (``<label for>``, a wrapping ``<label>``, ``aria-label``,
    ``aria-labelledby``); for a control without one, by the element whose whole visible text is
    `label` and that stands beside it: the text in the same cell or element, the element right
    before it in the same parent (left of it or above it), the label cell (``td``/``th``) left
    of its cell in the same row, for a checkbox or radio the text just right of it, and the
    caption of its column in a grid's row of captions above (see the module: a caption over
    several fields, or a list with a field in each row, matches them all).

    Args:
        scope: Page, frame, frame locator or region to look in.
        label: The label as a person reads it (see `name_pattern` for what is tolerated).
    """
    pattern = name_pattern(label)
    by_association = scope.get_by_label(pattern)
    text = scope.get_by_text(pattern)
    by_text = text.locator(f"xpath={_BESIDE_TEXT}")
    by_caption = text.locator(f"xpath={_CAPTION_CELL}").locator(f"xpath={_BELOW_CAPTION}")
    return by_association.or_(by_text).or_(by_caption)


def button_by_name(scope: Scope, name: str) -> Locator:
    """The button named `name`: ``<button>``, submit/image inputs, a postback link.

    Covers everything with the role button (an ``input type=image`` is named by its ``alt``
    text) and links that only run script (``href="javascript:__doPostBack(...)"``), which old
    back offices use as buttons, matched by their text.

    Args:
        scope: Page, frame, frame locator or region to look in.
        name: The button's text as a person reads it (see `name_pattern`).
    """
    pattern = name_pattern(name)
    postback = scope.locator("xpath=//a[starts-with(normalize-space(@href), 'javascript:')]")
    return scope.get_by_role("button", name=pattern).or_(postback.filter(has_text=pattern))


def link_by_name(scope: Scope, name: str) -> Locator:
    """The link with the text `name` (see `name_pattern`)."""
    return scope.get_by_role("link", name=name_pattern(name))


def heading_by_name(scope: Scope, name: str) -> Locator:
    """The heading with the text `name` (see `name_pattern`)."""
    return scope.get_by_role("heading", name=name_pattern(name))


def role_by_name(scope: Scope, role: str, name: str, *, include_hidden: bool = False) -> Locator:
    """An element of `role` named `name`, or one of that role titled by `name` inside.

    A release that drops ``aria-labelledby`` leaves a dialog or radio group without an
    accessible name; a person still reads its title (a heading, a legend, a caption). Both
    ways find the same element, so the locator matches it once.

    Args:
        scope: Page, frame, frame locator or region to look in.
        role: An ARIA role, e.g. ``"dialog"``, ``"radiogroup"``, ``"table"``.
        name: The accessible name or visible title (see `name_pattern`).
        include_hidden: Also match hidden elements (e.g. in a closed tab panel).
    """
    pattern = name_pattern(name)
    named = scope.get_by_role(role, name=pattern, include_hidden=include_hidden)  # type: ignore[arg-type]
    title = scope.locator(
        "xpath=//*[self::h1 or self::h2 or self::h3 or self::h4 or self::legend or self::caption]"
    ).filter(has_text=pattern)
    titled = scope.get_by_role(role, include_hidden=include_hidden).filter(has=title)  # type: ignore[arg-type]
    return named.or_(titled)


def frame_named(scope: Page | Frame | FrameLocator, name: str) -> FrameLocator:
    """The frame (of a frameset) or iframe with the ``name`` attribute `name`.

    Frames are found by name, which a frameset gives its parts for links to target
    (``target="inhalt"``); it is stable across releases, unlike generated ids.
    """
    quoted = '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return scope.frame_locator(f"frame[name={quoted}], iframe[name={quoted}]")
