"""The ``strip_aria`` release of the Fachverfahren Steuern: tables and dialogs lose ARIA only."""

from __future__ import annotations

from sandbox.steuer._release import strip_aria


def test_strip_aria_removes_table_and_dialog_markup_only() -> None:
    html = (
        '<nav aria-label="Hauptnavigation"><a href="/">Start</a></nav>'
        '<table aria-label="Suchergebnis" role="table"><caption>Treffer</caption>'
        "<tr><th>Name</th></tr></table>"
        '<div class="dialog" role="dialog" aria-modal="true" aria-labelledby="t">'
        '<h2 id="t">Hinweis</h2></div>'
        '<p role="alert">Bitte korrigieren</p>'
    )
    out = strip_aria(html)
    assert "<table>" in out and "Suchergebnis" not in out and "<caption" not in out
    assert '<div class="dialog">' in out
    assert 'aria-label="Hauptnavigation"' in out and 'role="alert"' in out
    assert "<th>Name</th>" in out and '<h2 id="t">Hinweis</h2>' in out
