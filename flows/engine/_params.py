"""What a process owner sets when starting a run from the Prefect UI (German form titles)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

__all__ = ["BatchParams", "IntakeParams"]


class BatchParams(BaseModel):
    """Parameters of a ``<process>`` batch run."""

    max_items: int = Field(
        50, ge=1, le=5000, title="Höchstzahl Anträge", description="So viele Vorgänge je Lauf."
    )
    approval: Literal["auto", "manual"] = Field(
        "auto",
        title="Freigabe der Bescheide",
        description=(
            "auto: Bescheid geht ohne menschliche Prüfung hinaus (nur wo § 35a VwVfG das "
            "erlaubt); manual: jeder Bescheid wartet auf die Freigabe einer Sachbearbeiterin."
        ),
    )
    dry_run: bool = Field(
        False,
        title="Probelauf",
        description="Nur prüfen (Canary, Abruf, Entschlüsselung, Validierung); nichts anlegen.",
    )
    sessions: int = Field(
        1,
        ge=1,
        le=8,
        title="Parallele Bot-Sitzungen",
        description="Höchstens so viele wie Lizenzen.",
    )
    item_keys: list[str] | None = Field(
        None,
        title="Nur diese Vorgänge",
        description="Leer: alle offenen Vorgänge; sonst nur diese (Teil-Stapel des Eingangs).",
    )
    poll_source: bool = Field(
        True,
        title="Zuerst neue Anträge abholen",
        description="Vor der Bearbeitung neue Anträge von der Quelle holen und quittieren.",
    )


class IntakeParams(BaseModel):
    """Parameters of a ``<process>-intake`` run."""

    batch_size: int = Field(
        10,
        ge=1,
        le=500,
        title="Vorgänge je Stapel",
        description="So viele Vorgänge bearbeitet ein Lauf (ein Worker).",
    )
    max_items: int = Field(
        1000,
        ge=1,
        le=50_000,
        title="Höchstzahl Vorgänge",
        description="Je Eingang höchstens so viele.",
    )
    approval: Literal["auto", "manual"] = Field(
        "auto", title="Freigabe der Bescheide", description="Wird an jeden Stapel weitergegeben."
    )
    sessions: int = Field(
        1,
        ge=1,
        le=8,
        title="Bot-Sitzungen je Stapel",
        description="Die Lizenzen (Sitze) begrenzen die Summe über alle Worker.",
    )
    deployment: str = Field(
        "",
        title="Deployment der Verarbeitung",
        description="flow/deployment, das die Stapel bearbeitet (leer: <Prozess>/<Prozess>).",
    )
