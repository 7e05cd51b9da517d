"""The process engine: a process is a declaration, the engine builds and runs its flows.

```
from flows.engine import BotSpec, Process, build_flows

PROCESS = Process(name="hundesteuer", title="Hundesteuer", source=..., bot=BotSpec(...),
                  enter=enter, notice=notice, rejection=rejection, review=REVIEW)
FLOWS = build_flows(PROCESS)
hundesteuer = FLOWS.batch                      # deployments name these as entrypoints
hundesteuer_intake = FLOWS.intake
```

Work items live in the framework's own store (`amtsbote.store`): intake stores each new item
and only then acknowledges it at the source; batches claim items with a lease; the walk of
one item (`Walker`) maps exception types to item states in one place; Klärfall and Freigabe
runs finish items a clerk holds. See DESIGN.md, "The process engine".
"""

from __future__ import annotations

from flows.engine._build import ProcessFlows, build_flows
from flows.engine._canary import CanaryFailed
from flows.engine._fanout import batch_key, crash_detection_automation, plan_batches
from flows.engine._human import HUMAN_TAG
from flows.engine._params import BatchParams, IntakeParams
from flows.engine._process import BotSpec, ClerkDecision, Entry, Process, ProcessBot, Review
from flows.engine._services import Services
from flows.engine._settings import ProcessSettings
from flows.engine._walk import ItemResult, Walker, reply_id_for

__all__ = [
    "HUMAN_TAG",
    "BatchParams",
    "BotSpec",
    "CanaryFailed",
    "ClerkDecision",
    "Entry",
    "IntakeParams",
    "ItemResult",
    "Process",
    "ProcessBot",
    "ProcessFlows",
    "ProcessSettings",
    "Review",
    "Services",
    "Walker",
    "batch_key",
    "build_flows",
    "crash_detection_automation",
    "plan_batches",
    "reply_id_for",
]
