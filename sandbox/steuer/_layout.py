"""Generated control ids and names, different per layout version.

Legacy back offices (ASP.NET WebForms and the like) give their controls generated ids such as
``ctl00_Main_txt17`` that change with every release. The sandbox imitates this so bots cannot
lean on ids: each layout ("v1", "v2") derives its own ids, names and option values from a
per-layout scheme, and only labels, roles and visible texts stay the same.

The server decodes a posted form by looking a field name up in the names of *all* layouts, so a
form rendered before a layout switch still posts correctly (nothing of the meaning is lost).
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

__all__ = ["LAYOUTS", "Layout", "decode_form", "layout"]

# field key -> control kind (decides the id prefix)
_FIELDS: dict[str, str] = {
    "login_user": "text",
    "login_password": "text",
    "search_nachname": "text",
    "search_vorname": "text",
    "search_geburtsdatum": "text",
    "tp_nachname": "text",
    "tp_vorname": "text",
    "tp_geburtsdatum": "text",
    "tp_strasse": "text",
    "tp_plz": "text",
    "tp_ort": "text",
    "tp_email": "text",
    "tp_bestaetigt": "button",
    "show_steuernummer": "text",
    "show_name": "text",
    "show_geburtsdatum": "text",
    "show_anschrift": "text",
    "show_steuerpflichtiger": "text",
    "fremdreferenz": "text",
    "hund_name": "text",
    "rasse": "select",
    "hund_geburtsdatum": "text",
    "transponder": "text",
    "halter_seit": "text",
    "zahlungsweise": "radio",
    "sepa_mandat": "check",
    "kontoinhaber": "text",
    "iban": "text",
    "versicherung": "check",
    "ermaessigung": "text",
    "bemerkung": "textarea",
    "suchbegriff": "text",
    "done_aktenzeichen": "text",
    "done_jahressteuer": "text",
    "done_fremdreferenz": "text",
}

_SCHEMES: dict[str, tuple[str, dict[str, str]]] = {
    "v1": (
        "ctl00_Main_",
        {
            "text": "txt",
            "textarea": "txt",
            "select": "ddl",
            "check": "chk",
            "radio": "rbl",
            "button": "btn",
        },
    ),
    "v2": (
        "ctl00_ContentPlaceHolder1_",
        {
            "text": "tbx",
            "textarea": "mem",
            "select": "cbo",
            "check": "cbx",
            "radio": "opt",
            "button": "cmd",
        },
    ),
}

LAYOUTS: tuple[str, ...] = tuple(_SCHEMES)


@dataclass(frozen=True)
class Layout:
    """The generated ids/names/option values of one layout version."""

    version: str
    ids: dict[str, str]
    option_values: dict[str, dict[str, str]]  # field key -> {meaning: generated value}

    def id(self, key: str) -> str:
        """The control id of field `key` (also the ``for`` of its label)."""
        return self.ids[key]

    def name(self, key: str) -> str:
        """The form field name of `key` (ASP.NET style: ``$`` instead of ``_``)."""
        return self.ids[key].replace("_", "$")

    def option(self, key: str, meaning: str) -> str:
        """The generated ``value`` of option `meaning` (e.g. a breed code) of field `key`."""
        return self.option_values[key][meaning]


def _build(version: str, breed_codes: Iterable[str]) -> Layout:
    prefix, kinds = _SCHEMES[version]
    rng = random.Random(f"amtsbote-sandbox-steuer-{version}")
    numbers = rng.sample(range(2, 400), len(_FIELDS))
    ids = {
        key: f"{prefix}{kinds[kind]}{num}"
        for (key, kind), num in zip(sorted(_FIELDS.items()), numbers, strict=True)
    }
    codes = list(breed_codes)
    breed_values = rng.sample(range(100, 999), len(codes))
    options = {
        "rasse": {code: str(v) for code, v in zip(codes, breed_values, strict=True)},
        "zahlungsweise": (
            {"sepa": "1", "ueberweisung": "2"}
            if version == "v1"
            else {"sepa": "L", "ueberweisung": "U"}
        ),
    }
    return Layout(version, ids, options)


_CACHE: dict[str, Layout] = {}
_BREED_CODES: list[str] = []


def layout(version: str) -> Layout:
    """The `Layout` of `version` ("v1" or "v2")."""
    return _CACHE[version]


def init_layouts(breed_codes: Iterable[str]) -> None:
    """Build the layouts once (the breed codes decide the generated option values)."""
    if _CACHE:
        return
    _BREED_CODES.extend(breed_codes)
    for v in LAYOUTS:
        _CACHE[v] = _build(v, _BREED_CODES)


def decode_form(form: Mapping[str, str]) -> dict[str, str]:
    """Map posted generated names back to field keys and option values back to meanings.

    Names of any layout are understood. Unknown names (e.g. the CSRF token) are skipped.
    """
    out: dict[str, str] = {}
    for lay in _CACHE.values():
        for key in lay.ids:
            name = lay.name(key)
            if name in form:
                value = form[name]
                opts = lay.option_values.get(key)
                if opts is not None:
                    reverse = {v: k for k, v in opts.items()}
                    value = reverse.get(value, "")
                out[key] = value
    return out
