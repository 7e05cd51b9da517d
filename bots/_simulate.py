"""The input method ``simulate``: a whole form filled in one call into the page, values read back.

Playwright's actionable ``fill`` costs a round trip per field and per check (is it attached,
visible, enabled, editable, stable?); a form of thirteen fields is some forty protocol calls.
``simulate`` sends the whole form at once. In the page it finds each field by the same
meaning-locators as `bots.field_by_label` (the associated label — ``<label for>``, a wrapping
label, ``aria-label``, ``aria-labelledby`` — else the element whose whole text is the label and
the control beside it or, in a grid, below it in its column, by the very XPath rules of
`bots._locate`), reveals a field in a hidden
tab panel by clicking that panel's tab, sets the value with the element's native value setter (so
frameworks that watch the setter see it), fires the events a person's typing leaves behind
(``focus``, ``input``, ``change``, ``blur``), ticks checkboxes and radios by a click, picks a
select's option by its visible text, and reads every value back.

When ``simulate`` is wrong — give such a field the method ``fill`` (see
`PageObject.fill_fields`) or type it key by key in a verb of its page object:

- a field that reacts to keys (``keydown``/``keypress``/``keyup`` handlers: an autocomplete that
  only opens on a key, a field that moves on to the next one after N characters);
- an input mask that builds the value from keystrokes (``__.__.____`` date masks, IBAN groups):
  the value set at once bypasses it, and the read-back shows the mismatch;
- a field that is only enabled or shown after another one was actually typed into (a script
  waiting for a focus by a real pointer), and controls drawn on a canvas or in a closed shadow
  root, which no label finds.

Nothing here waits: ``simulate`` is for server-rendered forms that are complete when their
landmark shows. A field not found, found twice, not editable, or read back different raises
`ApplicationError` naming the field's label.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias

from playwright.sync_api import Frame, Locator, Page

from amtsbote import ApplicationError

from ._locate import _FIELD_RULES

__all__ = [
    "FieldValue",
    "InputMethod",
    "Option",
    "field_inputs",
    "simulate_form",
    "simulate_values",
]

InputMethod: TypeAlias = Literal["fill", "simulate"]
"""How a form is filled: Playwright's actionable ``fill`` per field, or one `simulate` call."""


class Option(str):
    """A select's option, given by its visible text (``Option("Labrador Retriever")``)."""

    __slots__ = ()


FieldValue: TypeAlias = str | bool | Option
"""Text for an input or textarea, `Option` for a select, True/False for a checkbox or radio."""


@dataclass(frozen=True)
class FieldInput:
    """One field of a form to fill: its label, what kind of value, the value."""

    label: str
    kind: Literal["text", "option", "check"]
    value: str | bool


def field_inputs(values: Mapping[str, FieldValue]) -> list[FieldInput]:
    """Label → value as `FieldInput` entries (the kind follows from the value's type)."""
    result = []
    for label, value in values.items():
        if isinstance(value, bool):
            result.append(FieldInput(label, "check", value))
        elif isinstance(value, Option):
            result.append(FieldInput(label, "option", str(value)))
        else:
            result.append(FieldInput(label, "text", value))
    return result


# The same normalisation as `name_pattern`: case, nbsp, runs of whitespace, trailing ":" / "*".
_SIMULATE_JS = r"""
([root, fields, rules]) => {
  const doc = root.ownerDocument || root;
  const norm = s => (s || '').replace(/\u00a0/g, ' ').replace(/[\s:*]+$/, '').trim()
    .replace(/\s+/g, ' ').toLowerCase();
  const TEXTLIKE_SKIP = new Set(['hidden', 'submit', 'button', 'image', 'reset']);
  const isControl = el => el.localName === 'select' || el.localName === 'textarea'
    || (el.localName === 'input' && !TEXTLIKE_SKIP.has((el.type || '').toLowerCase()));
  const ownText = label => {
    let text = '';
    for (const node of label.childNodes) {
      if (node.nodeType === 3) text += node.textContent;
      else if (node.nodeType === 1 && !['select', 'textarea', 'input'].includes(node.localName))
        text += node.textContent;
    }
    return text;
  };
  const labelsOf = el => {
    const names = [];
    if (el.getAttribute('aria-label')) names.push(el.getAttribute('aria-label'));
    const by = el.getAttribute('aria-labelledby');
    if (by) names.push(by.split(/\s+/).map(id => doc.getElementById(id))
      .filter(Boolean).map(n => n.textContent).join(' '));
    for (const label of (el.labels || [])) names.push(ownText(label));
    return names.map(norm);
  };
  const controls = Array.from(root.querySelectorAll('input, select, textarea')).filter(isControl);
  const byLabel = new Map();
  for (const el of controls) for (const name of labelsOf(el)) {
    if (!byLabel.has(name)) byLabel.set(name, new Set());
    byLabel.get(name).add(el);
  }
  // Elements whose whole text is a label, innermost only (as Playwright's text engine).
  const wanted = new Set(fields.map(f => norm(f.label)));
  const byText = new Map();
  const SKIP = new Set(['script', 'style', 'noscript', 'template', 'option', 'head', 'title']);
  for (const el of root.querySelectorAll('*')) {
    if (SKIP.has(el.localName)) continue;
    const text = norm(el.textContent);
    if (!wanted.has(text)) continue;
    if (Array.from(el.children).some(c => !SKIP.has(c.localName) && norm(c.textContent) === text))
      continue;
    if (!byText.has(text)) byText.set(text, []);
    byText.get(text).push(el);
  }
  // The rules of `bots.field_by_label`, each parsed once per call on first use.
  const xpath = rule => {
    let expr = null;
    return el => {
      expr = expr || doc.createExpression(rule);
      const it = expr.evaluate(el, XPathResult.ORDERED_NODE_SNAPSHOT_TYPE, null);
      return Array.from({length: it.snapshotLength}, (_, i) => it.snapshotItem(i));
    };
  };
  const [besideOf, captionOf, belowOf] = [rules.beside, rules.caption, rules.below].map(xpath);
  const beside = el => [...besideOf(el), ...captionOf(el).flatMap(belowOf)];
  const shown = el => !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length);
  const reveal = el => {
    if (shown(el)) return true;
    const panel = el.closest('[role=tabpanel]');
    const tabs = Array.from(doc.querySelectorAll('[role=tab]'));
    if (panel) {
      const named = (panel.getAttribute('aria-labelledby') || '').split(/\s+/);
      const tab = tabs.find(t => (t.id && named.includes(t.id))
        || (panel.id && t.getAttribute('aria-controls') === panel.id));
      if (tab) { tab.click(); if (shown(el)) return true; }
    }
    for (const tab of tabs) { tab.click(); if (shown(el)) return true; }
    return false;
  };
  const fire = (el, type) => el.dispatchEvent(new Event(type, {bubbles: true}));
  const setValue = (el, value) => {
    const proto = el.localName === 'textarea' ? HTMLTextAreaElement.prototype
      : HTMLInputElement.prototype;
    Object.getOwnPropertyDescriptor(proto, 'value').set.call(el, value);
  };
  const optionText = el => el.selectedIndex < 0 ? '' : el.options[el.selectedIndex].text.trim();
  const readBack = (el, kind) => kind === 'check' ? el.checked
    : kind === 'option' ? optionText(el) : el.value;
  const problems = [];
  const done = [];
  const reads = {};
  for (const f of fields) {
    const key = norm(f.label);
    const hits = new Set(byLabel.get(key) || []);
    for (const t of (byText.get(key) || [])) for (const el of beside(t)) hits.add(el);
    if (hits.size !== 1) {
      problems.push({label: f.label, problem: hits.size ? 'ambiguous' : 'not-found'});
      continue;
    }
    const el = hits.values().next().value;
    const kind = f.kind;
    if (kind === 'read') {  // `bots._dom.look`: find and read, enter nothing
      reads[f.label] = el.localName === 'input' && ['checkbox', 'radio'].includes(el.type)
        ? el.checked : el.localName === 'select' ? optionText(el) : el.value;
      continue;
    }
    const checkable = el.localName === 'input' && ['checkbox', 'radio'].includes(el.type);
    if ((kind === 'check') !== checkable || (kind === 'option') !== (el.localName === 'select')) {
      problems.push({label: f.label, problem: 'wrong-kind'});
      continue;
    }
    if (el.disabled || el.readOnly) {
      problems.push({label: f.label, problem: 'read-only'});
      continue;
    }
    if (!reveal(el)) { problems.push({label: f.label, problem: 'hidden'}); continue; }
    el.focus();
    if (kind === 'check') {
      if (el.checked !== f.value) el.click();  // a click fires click, input and change
    } else if (kind === 'option') {
      const option = Array.from(el.options).find(o => norm(o.text) === norm(f.value));
      if (option) { el.value = option.value; fire(el, 'input'); fire(el, 'change'); }
    } else if (el.value !== f.value) {
      setValue(el, f.value);
      fire(el, 'input');
      fire(el, 'change');
    }
    el.blur();
    done.push([f, el]);
  }
  const values = {};
  for (const [f, el] of done) {
    const got = readBack(el, f.kind);
    values[f.label] = got;
    const same = f.kind === 'option' ? norm(got) === norm(f.value) : got === f.value;
    if (!same) problems.push({label: f.label, problem: 'mismatch'});
  }
  return {values, problems, reads, tabs: doc.querySelector('[role=tab]') !== null};
}
"""

_PROBLEMS = {
    "not-found": "nicht gefunden",
    "ambiguous": "mehrfach gefunden",
    "wrong-kind": "ist kein Feld dieser Art",
    "read-only": "ist schreibgeschützt",
    "hidden": "bleibt verborgen (kein Reiter zeigt es)",
    "mismatch": "zeigt nach der Eingabe einen anderen Wert",
}


def simulate_form(
    scope: Page | Frame | Locator, values: Mapping[str, FieldValue], *, screen: str = "Seite"
) -> dict[str, str | bool]:
    """Fill the fields `values` names (label → value) in one call; return the values read back.

    Args:
        scope: The page, frame, or region (a `Locator` of one element, e.g. the form) to fill.
        values: Label → value: text, `Option` (a select's option text), or a bool (checkbox or
            radio). Labels are matched as `bots.name_pattern` does.
        screen: The screen's name for the error message.

    Returns:
        Label → the value the page shows afterwards (the option's text for a select).

    Raises:
        ApplicationError: A field was not found, found twice, is read-only or of another kind,
            or shows another value than was entered (code ``field-not-found`` or
            ``input-mismatch``; ``field`` is the first such label).
    """
    return simulate_values(scope, values, screen=screen)[0]


def simulate_values(
    scope: Page | Frame | Locator, values: Mapping[str, FieldValue], *, screen: str = "Seite"
) -> tuple[dict[str, str | bool], bool]:
    """`simulate_form`, and whether the page has tabs (so `PageObject.reveal` need not ask)."""
    fields = [{"label": f.label, "kind": f.kind, "value": f.value} for f in field_inputs(values)]
    if isinstance(scope, Locator):
        result: dict[str, Any] = scope.evaluate(
            f"(root, arg) => ({_SIMULATE_JS})([root, ...arg])", [fields, _FIELD_RULES]
        )
    else:
        result = scope.evaluate(
            f"arg => ({_SIMULATE_JS})([document, ...arg])", [fields, _FIELD_RULES]
        )
    problems: list[dict[str, str]] = result["problems"]
    if problems:
        first = problems[0]
        text = "; ".join(f"„{p['label']}“ {_PROBLEMS[p['problem']]}" for p in problems)
        code = "input-mismatch" if first["problem"] == "mismatch" else "field-not-found"
        raise ApplicationError(f"{screen}: {text}.", code=code, field=first["label"])
    read: dict[str, str | bool] = result["values"]
    return read, bool(result["tabs"])
