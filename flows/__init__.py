"""Prefect flows: the process engine, one package per process, audit report and the CLI.

- ``flows.engine``        the process engine: `Process` declaration → intake, batch,
                          Klärfall and Freigabe flows over the work-item store
- ``flows.hundesteuer``   portal → Fachverfahren Steuern → notice → e-Akte → citizen
- ``flows.audit_report``  the day's audit events with the chain's verify result (table + DOCX)
- ``flows.cli``           ``amtsbote audit verify``, ``amtsbote store …`` and friends
"""
