from __future__ import annotations

from prefect import flow, task

from tests.fixtures.prefect import PrefectServer


@task
def _double(x: int) -> int:
    return 2 * x


@flow
def _smoke(n: int) -> int:
    return sum(_double(i) for i in range(n))


def test_flow_runs_on_real_server(prefect_server: PrefectServer) -> None:
    from prefect.client.orchestration import get_client

    assert _smoke(4) == 12
    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs()
    assert any(r.name and r.state and r.state.is_completed() for r in runs)
