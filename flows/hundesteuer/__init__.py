"""Hundesteuer: dog-tax registrations from the service portal into the Fachverfahren Steuern,
as a declaration the engine (`flows.engine`) runs: notice or Ablehnungsbescheid, Klärfall when
the taxpayer is known at another address."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any, Literal

from prefect.input import RunInput
from pydantic import Field

from amtsbote import BusinessRuleError, ReviewRequired
from bots import BotAccount, BrowserSession
from bots.steuer import Registration, SteuerBot, SteuerSettings
from connectors.documents import render_dog_tax_notice, render_rejection_letter
from connectors.portal import PortalClient, PortalSettings
from connectors.records import RulesBroken
from connectors.records.hundesteuer import DogTaxApplication
from connectors.sources import Document, PortalSource, Received
from flows.engine import BotSpec, ClerkDecision, Process, Review, build_flows

__all__ = ["FLOWS", "PROCESS", "hundesteuer", "hundesteuer_intake"]  # + _klaerfall, _freigabe

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
App = Received[DogTaxApplication]


def source() -> PortalSource[DogTaxApplication]:
    return PortalSource(PortalClient(PortalSettings()))


def make_bot(session: BrowserSession, account: BotAccount, evidence: Path, run_id: str) -> Any:
    return SteuerBot(session, SteuerSettings(), account, evidence_dir=evidence, run_id=run_id)


def enter(bot: SteuerBot, item: App, option: str | None) -> Registration:
    return bot.register(item.record, taxpayer=option or "auto")


def _recipient(app: DogTaxApplication) -> tuple[str, list[str]]:
    o = app.owner
    lines = [f"{o.street} {o.house_number}", f"{o.postal_code} {o.city}"]
    return f"{o.given_name} {o.family_name}", lines


def notice(item: App, reg: Registration, today: date) -> Document:
    app = item.record
    name, address = _recipient(app)
    content = render_dog_tax_notice(
        aktenzeichen=reg.aktenzeichen,
        tax_amount=reg.tax_amount,
        owner_name=name,
        address_lines=address,
        dog_name=app.dog.name,
        breed_name=app.dog.breed_name,
        start_date=app.dog.owned_since,
        iban=app.sepa_mandate.iban,
        notice_date=today,
    )
    title = f"Hundesteuerbescheid {reg.aktenzeichen}"
    return Document("bescheid", "hundesteuerbescheid.docx", DOCX, content, title)


def rejection(item: App, error: BusinessRuleError, today: date) -> Document:
    name, address = _recipient(item.record)
    content = render_rejection_letter(
        reference=item.item_key,
        service_name="Anmeldung eines Hundes zur Hundesteuer",
        office="Steueramt",
        recipient_name=name,
        address_lines=address,
        reasons=error.reasons() if isinstance(error, RulesBroken) else [(None, error.message)],
        letter_date=today,
    )
    title = "Ablehnung Ihrer Hundesteuer-Anmeldung"
    return Document("ablehnung", "ablehnungsbescheid.docx", DOCX, content, title)


class KlaerfallDecision(RunInput):
    """The clerk's decision on a taxpayer found with another address."""

    entscheidung: Literal["vorhandenen-verwenden", "neu-anlegen", "ablehnen"] = Field(
        title="Entscheidung",
        description="Fall beim gefundenen Steuerpflichtigen anlegen, neu anlegen, oder ablehnen.",
    )
    treffer: int = Field(1, ge=1, title="Treffer", description="Welcher der gefundenen (1, 2, …).")
    begruendung: str = Field(
        "", title="Begründung", description="Bei Ablehnung: Text, den die Antragstellerin liest."
    )


def _parts(address: str) -> list[tuple[str, str]]:
    street, _, rest = address.partition(", ")
    plz, _, city = rest.strip().partition(" ")
    return list(zip(("Straße und Hausnummer", "PLZ", "Ort"), (street, plz, city), strict=True))


def describe(exc: ReviewRequired, links: dict[str, str]) -> str:
    """What differs, per match, without showing any of it (no personal data in Prefect)."""
    given = _parts(str(exc.facts.get("portal_address", "")))
    found = sorted(exc.facts.get("back_office", []), key=lambda r: str(r.get("steuernummer")))
    lines = []
    for n, row in enumerate(found, 1):
        other = dict(_parts(str(row.get("anschrift", ""))))
        same = [w for w, v in given if v.strip().casefold() == other[w].strip().casefold()] or ["–"]
        differs = ", ".join(w for w, _ in given if w not in same) or "–"
        lines.append(f"- Treffer {n}: Anschrift weicht ab: {differs}; gleich: {', '.join(same)}")
    return (
        f"### Klärfall zu Vorgang `{links['Vorgang']}`\n\nIm Fachverfahren Steuern gibt es "
        "Steuerpflichtige mit gleichem Namen und Geburtsdatum, aber anderer Anschrift:\n\n"
        + "\n".join(lines)
        + f"\n\nDer Antrag liegt in der [e-Akte]({links['e-Akte']}); die Treffer zeigt die Suche "
        "im Fachverfahren Steuern. Bitte entscheiden Sie unten."
    )


def decide(answer: KlaerfallDecision) -> ClerkDecision:
    if answer.entscheidung == "ablehnen":
        reason = answer.begruendung.strip() or "Der Antrag konnte nicht bearbeitet werden."
        return ClerkDecision(reject=reason)
    new = answer.entscheidung == "neu-anlegen"
    return ClerkDecision(option="new" if new else f"treffer:{answer.treffer}")


PROCESS = Process(
    name="hundesteuer",
    title="Hundesteuer",
    source=source,
    bot=BotSpec("Fachverfahren Steuern", make_bot, seats="fachverfahren-steuern-seats"),
    enter=enter,
    notice=notice,
    rejection=rejection,
    review=Review(
        KlaerfallDecision,
        describe,
        decide,
        {"entscheidung": "vorhandenen-verwenden"},
        codes=frozenset({"taxpayer-address-differs"}),
    ),
    approval="manual",  # four eyes unless a run says auto (§ 35a VwVfG)
    deadline_days=30,
    manual_minutes=12,
    item_label="antrag",
)
FLOWS = build_flows(PROCESS, __name__)
hundesteuer = FLOWS.batch
hundesteuer_intake = FLOWS.intake
hundesteuer_klaerfall = FLOWS.klaerfall
hundesteuer_freigabe = FLOWS.freigabe
