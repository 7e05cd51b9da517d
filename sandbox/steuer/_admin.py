"""Admin endpoints of the Fachverfahren Steuern (tests and demo only; admin token)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Header, HTTPException

from sandbox._common import require_bearer
from sandbox.steuer._config import BREEDS
from sandbox.steuer._state import SteuerState

__all__ = ["admin_routes"]


def admin_routes(st: SteuerState) -> APIRouter:
    """``/admin/export``, ``/admin/reset`` and ``/admin/accounts`` (counters, unlock)."""
    router = APIRouter()
    admin = require_bearer(st.config.admin_token)

    @router.get("/admin/export", include_in_schema=False)
    def export(authorization: str | None = Header(default=None)) -> dict[str, Any]:
        admin(authorization)
        cases, taxpayers = st.db.export()
        return {
            "cases": [
                {
                    "aktenzeichen": c["aktenzeichen"],
                    "fremdreferenz": c["fremdreferenz"],
                    "taxpayer_id": c["taxpayer_id"],
                    "steuernummer": c["steuernummer"],
                    "dog_name": c["dog_name"],
                    "breed_code": c["breed_code"],
                    "breed_name": BREEDS[c["breed_code"]][0],
                    "dog_birth_date": c["dog_birth_date"],
                    "chip": c["chip"],
                    "owned_since": c["owned_since"],
                    "payment": c["payment"],
                    "sepa_mandate": bool(c["sepa_mandate"]),
                    "iban": c["iban"],
                    "holder": c["holder"],
                    "insurance": bool(c["insurance"]),
                    "discount": f"{c['discount_cents'] / 100:.2f}",
                    "tax": f"{c['tax_cents'] / 100:.2f}",
                    "remark": c["remark"],
                    "status": c["status"],
                    "created_by": c["created_by"],
                    "created_at": c["created_at"],
                }
                for c in cases
            ],
            "taxpayers": [
                {
                    "id": t["id"],
                    "steuernummer": t["steuernummer"],
                    "family_name": t["family_name"],
                    "given_name": t["given_name"],
                    "birth_date": t["birth_date"],
                    "street": t["street"],
                    "postal_code": t["postal_code"],
                    "city": t["city"],
                    "email": t["email"],
                    "created_by": t["created_by"],
                    "created_at": t["created_at"],
                }
                for t in taxpayers
            ],
            "sessions": st.db.session_counts(st.knobs.session_lifetime_s),
        }

    @router.post("/admin/reset", include_in_schema=False)
    def reset(authorization: str | None = Header(default=None)) -> dict[str, bool]:
        admin(authorization)
        st.db.reset()
        return {"reset": True}

    def known(username: str) -> str:
        if username not in st.config.accounts:
            raise HTTPException(status_code=404, detail="unknown account")
        return username

    @router.get("/admin/accounts", include_in_schema=False)
    def accounts(authorization: str | None = Header(default=None)) -> dict[str, Any]:
        admin(authorization)
        return {"lockout_after": st.knobs.lockout_after, "accounts": st.locks.states()}

    @router.get("/admin/accounts/{username}", include_in_schema=False)
    def account(username: str, authorization: str | None = Header(default=None)) -> dict[str, Any]:
        admin(authorization)
        return st.locks.state(known(username))

    @router.post("/admin/accounts/{username}/unlock", include_in_schema=False)
    def unlock(username: str, authorization: str | None = Header(default=None)) -> dict[str, Any]:
        admin(authorization)
        return st.locks.unlock(known(username))

    return router
