"""The flow process of the benchmark: runs ``hundesteuer`` batches on command.

Why a process of its own: the flow gets its own interpreter (as on a worker), and its memory
and its browsers can be measured apart from the baselines'. Protocol: one JSON command per line
on stdin (``{"sessions": 2, "submission_ids": [...]}``), one JSON answer per line on the
original stdout; everything the flow prints goes to stderr.

    python -m bench._flow_worker   # environment: PREFECT_API_URL and AMTSBOTE_*
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any

__all__: list[str] = []


def _params(sessions: int, ids: list[str]) -> Any:
    from flows.engine import BatchParams

    return BatchParams.model_validate(
        {"max_items": max(1, len(ids)), "sessions": sessions, "item_keys": ids}
    )


def _task_ms(flow_run_id: Any) -> list[float]:
    """Durations of the run's item tasks (Prefect's own start/end times)."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    runs: list[Any] = []
    with get_client(sync_client=True) as client:
        while True:
            page = client.read_task_runs(
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])),
                limit=200,
                offset=len(runs),
            )
            runs += page
            if len(page) < 200:
                break
    out = []
    for run in runs:
        if run.name.startswith("antrag-") and run.start_time and run.end_time:
            out.append((run.end_time - run.start_time).total_seconds() * 1000)
    return out


def main() -> None:
    proto = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    from flows.hundesteuer import hundesteuer

    for line in sys.stdin:
        cmd = json.loads(line)
        params = _params(int(cmd["sessions"]), list(cmd["submission_ids"]))
        start = time.perf_counter()
        state = hundesteuer(params, return_state=True)
        run_s = time.perf_counter() - start
        report = state.result(raise_on_failure=False)
        answer: dict[str, Any] = {"run_s": run_s, "state": state.name}
        if isinstance(report, dict):
            answer["items"] = report["items"]
            answer["task_ms"] = _task_ms(state.state_details.flow_run_id)
        else:
            answer["error"] = repr(report)
        proto.write(json.dumps(answer) + "\n")


if __name__ == "__main__":
    main()
