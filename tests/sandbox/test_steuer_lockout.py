"""Account lockout of the Fachverfahren Steuern over plain HTTP: the knob, the page, the admin.

Every test that locks an account runs its own instance: a lock is the account's state and
outlives the knob, so it must not leak into the session-wide back office.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from contextlib import AbstractContextManager

import httpx

from sandbox._cli import _parser
from sandbox._run import SandboxConfig, _back_office_config
from sandbox.steuer import SteuerConfig, SteuerFaults
from tests.fixtures.steuer import SteuerServer
from tests.sandbox.test_steuer_http import TOKEN, fields

MakeSteuer = Callable[..., AbstractContextManager[SteuerServer]]
WRONG = re.compile(r'role="alert"[^>]*>Benutzername oder Passwort falsch\.<')
LOCKED = re.compile(r'role="alert"[^>]*>Konto gesperrt: zu viele fehlgeschlagene Anmeldungen\.')


def attempt(server: SteuerServer, user: str, password: str) -> httpx.Response:
    """One login in a fresh browser-like client; the answer to the POST."""
    with httpx.Client(base_url=server.base_url) as c:
        token, names = fields(c.get("/login").text)
        r = c.post(
            "/login", data={TOKEN: token, names["Benutzername"]: user, names["Passwort"]: password}
        )
        if r.status_code == 303:
            assert c.get("/start").status_code == 200
        return r


def test_off_by_default_counts_but_never_locks(make_steuer: MakeSteuer) -> None:
    with make_steuer() as server:
        for _ in range(5):
            r = attempt(server, "bot1", "falsch")
            assert r.status_code == 200 and WRONG.search(r.text)
        state = server.account_state("bot1")
        assert (state["failed_logins"], state["failed_total"], state["locked"]) == (5, 5, False)
        assert attempt(server, "bot1", server.accounts["bot1"]).status_code == 303
        state = server.account_state("bot1")
        assert (state["failed_logins"], state["failed_total"]) == (0, 5)
        assert state["last_login_at"] is not None
        assert server.account_states()["lockout_after"] is None


def test_third_failure_locks_even_the_right_password_until_unlocked(
    make_steuer: MakeSteuer,
) -> None:
    with make_steuer(lockout_after=3) as server:
        right = server.accounts["bot2"]
        for n in (1, 2):
            assert WRONG.search(attempt(server, "bot2", "falsch").text)
            assert server.account_state("bot2")["failed_logins"] == n
        r = attempt(server, "bot2", "falsch")
        assert r.status_code == 200 and LOCKED.search(r.text) and not WRONG.search(r.text)
        r = attempt(server, "bot2", right)
        assert r.status_code == 200 and LOCKED.search(r.text)
        state = server.account_state("bot2")
        assert state["locked"] and state["locked_at"] is not None
        assert (state["failed_logins"], state["failed_total"]) == (4, 4)
        listed = {a["username"]: a for a in server.account_states()["accounts"]}
        assert listed["bot2"]["locked"] and not listed["bot1"]["locked"]
        assert server.account_states()["lockout_after"] == 3
        # other accounts are untouched
        assert attempt(server, "bot1", server.accounts["bot1"]).status_code == 303

        unlocked = server.unlock("bot2")
        assert (unlocked["locked"], unlocked["failed_logins"]) == (False, 0)
        assert attempt(server, "bot2", right).status_code == 303


def test_a_successful_login_resets_the_count(make_steuer: MakeSteuer) -> None:
    with make_steuer(lockout_after=3) as server:
        for _ in range(2):
            attempt(server, "bot3", "falsch")
        assert attempt(server, "bot3", server.accounts["bot3"]).status_code == 303
        for _ in range(2):
            assert WRONG.search(attempt(server, "bot3", "falsch").text)
        state = server.account_state("bot3")
        assert (state["failed_logins"], state["failed_total"], state["locked"]) == (2, 4, False)


def test_knob_at_runtime_and_a_lock_outlives_it(make_steuer: MakeSteuer) -> None:
    with make_steuer() as server:
        assert server.set_faults(lockout_after=2)["lockout_after"] == 2
        attempt(server, "bot4", "falsch")
        assert LOCKED.search(attempt(server, "bot4", "falsch").text)
        server.set_faults(lockout_after=None)
        assert LOCKED.search(attempt(server, "bot4", server.accounts["bot4"]).text)
        server.set_faults(lockout_after=0)  # 0 is "off" as well
        for _ in range(3):
            assert WRONG.search(attempt(server, "bot1", "falsch").text)
        assert not server.account_state("bot1")["locked"]
        server.unlock("bot4")
        assert attempt(server, "bot4", server.accounts["bot4"]).status_code == 303


def test_unknown_user_is_refused_as_usual_and_counted_nowhere(make_steuer: MakeSteuer) -> None:
    with make_steuer(lockout_after=1) as server:
        for _ in range(2):
            r = attempt(server, "niemand", "falsch")
            assert WRONG.search(r.text) and not LOCKED.search(r.text)
        names = {a["username"] for a in server.account_states()["accounts"]}
        assert names == set(server.accounts) and "niemand" not in names


def test_account_endpoints_need_the_admin_token(make_steuer: MakeSteuer) -> None:
    with make_steuer() as server, httpx.Client(base_url=server.base_url) as c:
        assert c.get("/admin/accounts").status_code == 401
        assert c.get("/admin/accounts/bot1").status_code == 401
        assert c.post("/admin/accounts/bot1/unlock").status_code == 401
        bad = {"Authorization": "Bearer falsch"}
        assert c.post("/admin/accounts/bot1/unlock", headers=bad).status_code == 401
        admin = {"Authorization": f"Bearer {server.admin_token}"}
        assert c.get("/admin/accounts/niemand", headers=admin).status_code == 404
        assert c.post("/admin/accounts/niemand/unlock", headers=admin).status_code == 404


def test_reset_clears_the_counters(make_steuer: MakeSteuer) -> None:
    with make_steuer(lockout_after=1) as server:
        attempt(server, "bot1", "falsch")
        assert server.account_state("bot1")["locked"]
        server.reset()
        assert server.account_state("bot1") == {
            "username": "bot1",
            "failed_logins": 0,
            "failed_total": 0,
            "locked": False,
            "locked_at": None,
            "last_failed_at": None,
            "last_login_at": None,
        }


def test_lockout_is_set_by_config_and_by_sandbox_up() -> None:
    assert SteuerConfig().initial_faults().lockout_after is None
    assert SteuerConfig(lockout_after=3).initial_faults().lockout_after == 3
    cfg = SteuerConfig(faults=SteuerFaults(lockout_after=4))
    assert cfg.initial_faults().lockout_after == 4
    args = _parser().parse_args(["up", "--lockout-after", "3"])
    assert args.lockout_after == 3
    found = _back_office_config("steuer", SandboxConfig(lockout_after=args.lockout_after))
    assert found is not None
    steuer_config = found[1]
    assert isinstance(steuer_config, SteuerConfig)
    assert steuer_config.initial_faults().lockout_after == 3
    default = _back_office_config("steuer", SandboxConfig())
    assert default is not None and isinstance(default[1], SteuerConfig)
    assert default[1].lockout_after is None
