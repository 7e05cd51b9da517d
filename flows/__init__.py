"""Prefect flows: one business process per module, plus human tasks, audit report and the CLI.

- ``flows.hundesteuer``   the batch: portal → Fachverfahren Steuern → notice → e-Akte → portal
- ``flows.human``         ``klaerfall`` and ``freigabe``: runs that wait for a clerk's form
- ``flows.audit_report``  the day's audit events with the chain's verify result (table + DOCX)
- ``flows.cli``           ``amtsbote audit verify`` and friends
"""
