"""The DOM-call path: read a screen, or fill a form and press its button, in one call each.

Playwright injects its selector engine into every new document on the first locator call
(≈ 60 ms in the sandbox; later locator calls ≈ 7 ms); a registration crosses some seven
documents. `look` and `fill_and_submit` use ``evaluate`` only, which needs no injected engine:

- `look` returns in one call what a screen shows: the visible headings and alerts, the values
  of labelled fields (found by the same meaning rules as `bots.field_by_label`, via
  `bots._simulate`), named tables (headers and rows) and the targets of named links;
- `fill_and_submit` fills a form as the input method ``simulate`` does and, in the same call,
  clicks the button of that accessible name, then waits for the answer page
  (``domcontentloaded``: a server-rendered page is complete then).

Both are fast paths, never the only path: what they do not find for sure (no such heading, a
table not found once, a button hidden or disabled) they report as absent, and the page object
falls back to Playwright's locators, which wait and raise the usual errors (a field not found
is `ApplicationError` naming its label, as with ``simulate``). A page object chooses the path
per screen (`PageObject.input_method` ``"simulate"`` plus the verbs of its own).

When the DOM path is wrong — keep Playwright's actionable ``click`` (`PageObject.submit_form`):

- a button whose script listens for keys or pointer events (``mousedown``, ``pointerup``) instead
  of ``click``, or checks ``event.isTrusted``: a script's ``click()`` is not trusted;
- a button that opens a pop-up window (browsers block a pop-up not caused by a user gesture)
  or a download;
- a screen that is drawn by script after ``domcontentloaded`` (single-page applications): `look`
  does not wait, so the fallback's waiting locators would run on every call and gain nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from playwright.sync_api import Locator, Page, Response

from amtsbote import ApplicationError

from ._locate import _FIELD_RULES
from ._pages import PageObject
from ._simulate import _PROBLEMS, _SIMULATE_JS, FieldValue, field_inputs
from ._table import Row, header_key
from ._translate import http_error

__all__ = ["DomPage", "Look", "fill_and_submit", "look", "norm"]

_LOOK_JS = r"""
([doc, spec]) => {
  const norm = s => (s || '').replace(/\u00a0/g, ' ').replace(/[\s:*]+$/, '').trim()
    .replace(/\s+/g, ' ').toLowerCase();
  const shown = el => !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length);
  const text = el => (el.innerText || el.textContent || '').trim();
  const all = sel => Array.from(doc.querySelectorAll(sel)).filter(shown);
  const headings = all('h1, h2, h3, h4, h5, h6, [role=heading]').map(h => norm(text(h)));
  const alerts = all('[role=alert]').map(text).filter(t => t);
  const nameOf = el => {
    const own = el.getAttribute('aria-label');
    if (own) return [norm(own)];
    const ids = (el.getAttribute('aria-labelledby') || '').split(/\s+/).filter(i => i);
    if (ids.length) return [norm(ids.map(i => doc.getElementById(i))
      .filter(n => n).map(n => n.textContent).join(' '))];
    return Array.from(el.querySelectorAll('caption, h1, h2, h3, h4, legend'))
      .map(t => norm(t.textContent));
  };
  const tables = {};
  for (const name of spec.tables) {
    const hits = all('table, [role=table], [role=grid]')
      .filter(t => nameOf(t).includes(norm(name)));
    if (hits.length !== 1) { tables[name] = null; continue; }
    const own = el => el.closest('table, [role=table], [role=grid]') === hits[0];
    const headers = Array.from(hits[0].querySelectorAll('th, [role=columnheader]'))
      .filter(own).filter(h => h.closest('tr, [role=row]')
        && !h.closest('tr, [role=row]').querySelector('td, [role=cell], [role=gridcell]'))
      .map(text);
    const rows = Array.from(hits[0].querySelectorAll('tr, [role=row]')).filter(own)
      .map(r => Array.from(r.querySelectorAll('td, [role=cell], [role=gridcell]'))
        .filter(c => c.closest('tr, [role=row]') === r).map(text))
      .filter(cells => cells.length);
    tables[name] = headers.length ? {headers, rows} : null;
  }
  const links = {};
  for (const name of spec.links) {
    const hits = all('a[href]').filter(a => norm(text(a)) === norm(name));
    links[name] = hits.length === 1 ? hits[0].getAttribute('href') : null;
  }
  const texts = {};
  for (const wanted of spec.texts) {
    const hits = Array.from(doc.body ? doc.body.querySelectorAll('*') : [])
      .filter(el => norm(el.textContent) === norm(wanted));
    texts[wanted] = hits.some(shown);
  }
  return {headings, alerts, tables, links, texts};
}
"""

# The button by its accessible name, as `bots.button_by_name` finds it; clicked after the
# call returns (setTimeout), so the navigation does not cut the call short.
_SUBMIT_JS = r"""
([doc, fields, rules, name, heading]) => {
  const norm = s => (s || '').replace(/\u00a0/g, ' ').replace(/[\s:*]+$/, '').trim()
    .replace(/\s+/g, ' ').toLowerCase();
  const shown = el => !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length);
  const headings = Array.from(doc.querySelectorAll('h1, h2, h3, h4, h5, h6, [role=heading]'));
  if (heading !== null
      && !headings.some(h => shown(h) && norm(h.innerText || h.textContent) === norm(heading)))
    return {problems: [], here: false, clicked: false};
  const result = {...(SIMULATE)([doc, fields, rules]), here: true};
  if (result.problems.length) return {...result, clicked: false};
  const label = el => el.getAttribute('aria-label') || (el.localName === 'input'
    ? (el.type === 'image' ? el.alt : el.value) : el.textContent);
  const hits = Array.from(doc.querySelectorAll(
    'button, input[type=submit], input[type=button], input[type=image], [role=button],'
    + ' a[href^="javascript:"]')).filter(el => norm(label(el)) === norm(name));
  const button = hits.length === 1 ? hits[0] : null;
  if (!button || !shown(button) || button.disabled) return {...result, clicked: false};
  setTimeout(() => button.click(), 0);
  return {...result, clicked: true};
}
""".replace("(SIMULATE)", f"({_SIMULATE_JS})")


#: A name as the DOM path compares it (as `bots.name_pattern` tolerates).
norm = header_key


@dataclass
class Look:
    """What a screen shows, read in one call (see `look`).

    Attributes:
        headings: The visible headings' texts, normalised (`norm`).
        alerts: The visible alerts' texts (``role=alert``).
        values: Label → the field's value (text, a select's option text, or checked).
        tables: Name → rows (`Row`: keyed by header text, looked up tolerantly); None: not
            found exactly once.
        links: Name → the link's ``href`` as written; None: not found exactly once.
        texts: Text → whether an element whose whole text it is (as `norm` compares) shows.
        missing: Labels of fields not found exactly once.
    """

    headings: list[str]
    alerts: list[str]
    values: dict[str, str | bool] = field(default_factory=dict)
    tables: dict[str, list[Row] | None] = field(default_factory=dict)
    links: dict[str, str | None] = field(default_factory=dict)
    texts: dict[str, bool] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)

    def shows(self, heading: str) -> bool:
        """True if a visible heading reads `heading` (tolerant as `bots.name_pattern`)."""
        return norm(heading) in self.headings


def look(
    page: Page,
    *,
    fields: Sequence[str] = (),
    tables: Sequence[str] = (),
    links: Sequence[str] = (),
    texts: Sequence[str] = (),
) -> Look:
    """Read headings, alerts, field values, tables and links of `page` in one call.

    Nothing waits: use it on a server-rendered page after its navigation, and fall back to the
    locators of the page object for whatever is missing.
    """
    reads = [{"label": label, "kind": "read", "value": ""} for label in fields]
    raw: dict[str, Any] = page.evaluate(
        f"""([fields, rules, spec]) => {{
          const seen = ({_LOOK_JS})([document, spec]);
          const found = ({_SIMULATE_JS})([document, fields, rules]);
          return {{...seen, values: found.reads, problems: found.problems}};
        }}""",
        [reads, _FIELD_RULES, {"tables": list(tables), "links": list(links), "texts": list(texts)}],
    )
    result = Look(
        headings=raw["headings"], alerts=raw["alerts"], links=raw["links"], texts=raw["texts"]
    )
    result.values = raw["values"]
    result.missing = [p["label"] for p in raw["problems"]]
    for name, table in raw["tables"].items():
        result.tables[name] = (
            [Row.of(table["headers"], row) for row in table["rows"]] if table else None
        )
    return result


def fill_and_submit(
    page: Page,
    values: Mapping[str, FieldValue],
    button: str,
    *,
    screen: str = "Seite",
    heading: str | None = None,
) -> bool | None:
    """Fill `values` (as ``simulate``) and click the button named `button`, in one call.

    Waits for the answer page (``domcontentloaded``). With `heading`, the same call first checks
    that the screen shows that heading (the arrival check) and touches nothing if not.

    Returns:
        True if the button was clicked and the answer page arrived; False if the form was
        filled but the button was not found once, visible and enabled: the caller clicks it
        with Playwright (which waits for it); None if `heading` does not show (nothing done:
        the caller waits with `PageObject.arrive`, which also tells a login or error page).

    Raises:
        ApplicationError: A field is missing, ambiguous, read-only or reads back different
            (as `bots.simulate_form`), or the answer is an HTTP 5xx (code ``http-<status>``).
    """
    fields = [{"label": f.label, "kind": f.kind, "value": f.value} for f in field_inputs(values)]
    response: Response | None
    try:
        with page.expect_navigation(wait_until="domcontentloaded") as nav:
            result: dict[str, Any] = page.evaluate(
                f"arg => ({_SUBMIT_JS})([document, ...arg])",
                [fields, _FIELD_RULES, button, heading],
            )
            if not result["here"]:
                raise _NotHere
            problems: list[dict[str, str]] = result["problems"]
            if problems:
                first = problems[0]
                text = "; ".join(f"„{p['label']}“ {_PROBLEMS[p['problem']]}" for p in problems)
                code = "input-mismatch" if first["problem"] == "mismatch" else "field-not-found"
                raise ApplicationError(f"{screen}: {text}.", code=code, field=first["label"])
            if not result["clicked"]:
                raise _NotClicked
    except _NotClicked:
        return False
    except _NotHere:
        return None
    response = nav.value
    if response is not None and response.status >= 500:
        raise http_error(response.status, step=screen)
    return True


class _NotClicked(Exception):
    """The button was not found for sure in the DOM (internal: `fill_and_submit` → False)."""


class DomPage(PageObject):
    """A page object that reads and submits by DOM calls where it can (see the module).

    Its verbs call `arrive_seen` instead of `arrive` and `submit_values` instead of
    `fill_form` + `submit_form`; both fall back to the locators when the DOM call is not sure.
    """

    def arrive_seen(
        self,
        heading: str,
        expected: Locator,
        *,
        response: Response | None = None,
        fields: Sequence[str] = (),
        tables: Sequence[str] = (),
        links: Sequence[str] = (),
        texts: Sequence[str] = (),
    ) -> Look:
        """Arrive on the screen whose heading reads `heading`, and `look` at it.

        If the heading does not show at once, `arrive` waits for `expected` (and raises on a
        login page, an error page or a timeout, as always), then looks again.
        """
        if response is not None and response.status >= 500:
            raise http_error(response.status, step=self.screen)
        kwargs = {"fields": fields, "tables": tables, "links": links, "texts": texts}
        seen = look(self.page, **kwargs)
        if not seen.shows(heading):
            self.arrive(expected)
            seen = look(self.page, **kwargs)
        return seen

    def submit_values(
        self,
        values: Mapping[str, FieldValue],
        button: Locator,
        button_name: str,
        *,
        heading: str | None = None,
    ) -> None:
        """Fill `values` and press `button` (named `button_name`), then wait for the answer.

        One DOM call when the form takes ``simulate`` and the button shows once and enabled;
        otherwise `fill_form` and `submit_form` (Playwright's actionable click). With
        `heading`, the call also checks the screen arrived; if that heading does not show,
        `arrive` waits for `landmark` first (and raises on a login or error page).
        """
        if self.input_method == "simulate" and not self.fill_fields:
            screen = self.screen
            done = fill_and_submit(self.page, values, button_name, screen=screen, heading=heading)
            if done is None:
                self.arrive(self.landmark())
                done = fill_and_submit(self.page, values, button_name, screen=screen)
            if done:
                return
        else:
            if heading is not None:
                self.arrive(self.landmark())
            self.fill_form(values)
        self.submit_form(button)


class _NotHere(Exception):
    """The screen's heading does not show (internal: `fill_and_submit` → None)."""
