"""The e-Akte over real HTTP: idempotent put-by-key, auth, listing, problem details, faults."""

from __future__ import annotations

import hashlib
import uuid
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote

import httpx

from tests.fixtures.eakte import EakteServer

PROBLEM = "application/problem+json"


def _az() -> str:
    return f"HSt-2026-{uuid.uuid4().int % 10**6:06d}-{uuid.uuid4().hex[:4]}"


def test_akte_create_or_get(eakte: EakteServer) -> None:
    az = _az()
    with eakte.client() as c:
        r1 = c.put(f"/akten/{az}")
        r2 = c.put(f"/akten/{az}")
        assert (r1.status_code, r1.json()) == (201, {"aktenzeichen": az, "created": True})
        assert (r2.status_code, r2.json()) == (200, {"aktenzeichen": az, "created": False})
        r = c.get(f"/akten/{az}")
        assert r.json() == {"aktenzeichen": az, "documents": []}
        missing = c.get(f"/akten/{_az()}")
        assert missing.status_code == 404
        assert missing.headers["content-type"] == PROBLEM
        assert missing.json()["status"] == 404


def test_document_idempotency_and_listing(eakte: EakteServer) -> None:
    az = _az()
    pdf = b"%PDF-1.7\n% Bescheid \xe2\x80\x93 Hundesteuer\n%%EOF\n"
    headers = {"Content-Type": "application/pdf", "X-Filename": quote("bescheid-weiß.pdf")}
    with eakte.client() as c:
        c.put(f"/akten/{az}").raise_for_status()
        first = c.put(f"/akten/{az}/dokumente/bescheid", content=pdf, headers=headers)
        assert first.status_code == 201
        meta = first.json()
        assert meta["sha256"] == hashlib.sha256(pdf).hexdigest()
        assert (meta["size"], meta["filename"], meta["mimeType"]) == (
            len(pdf),
            "bescheid-weiß.pdf",
            "application/pdf",
        )
        again = c.put(f"/akten/{az}/dokumente/bescheid", content=pdf, headers=headers)
        assert (again.status_code, again.json()) == (200, meta)
        other = c.put(f"/akten/{az}/dokumente/bescheid", content=pdf + b"x", headers=headers)
        assert other.status_code == 409
        assert other.headers["content-type"] == PROBLEM
        assert other.json()["sha256"] == meta["sha256"]
        c.put(
            f"/akten/{az}/dokumente/antrag",
            content=b'{"dog": "Bello"}',
            headers={"Content-Type": "application/json"},
        ).raise_for_status()
        got = c.get(f"/akten/{az}/dokumente/bescheid")
        assert got.content == pdf
        assert got.headers["content-type"] == "application/pdf"
        listing = c.get(f"/akten/{az}").json()["documents"]
        assert sorted(d["key"] for d in listing) == ["antrag", "bescheid"]
        antrag = next(d for d in listing if d["key"] == "antrag")
        assert antrag["filename"] == "antrag"  # no X-Filename: the key
        no_akte = c.put(f"/akten/{_az()}/dokumente/x", content=b"1")
        assert no_akte.status_code == 404
        assert c.get(f"/akten/{az}/dokumente/fehlt").status_code == 404
    (akte,) = [a for a in eakte.export()["akten"] if a["aktenzeichen"] == az]
    assert {d["key"]: d["sha256"] for d in akte["documents"]} == {
        "bescheid": meta["sha256"],
        "antrag": hashlib.sha256(b'{"dog": "Bello"}').hexdigest(),
    }


def test_concurrent_puts_store_once(eakte: EakteServer) -> None:
    az = _az()
    body = b"same content" * 1000

    def put(_: int) -> int:
        with eakte.client() as c:
            return c.put(f"/akten/{az}/dokumente/beleg", content=body).status_code

    with eakte.client() as c:
        c.put(f"/akten/{az}").raise_for_status()
    with ThreadPoolExecutor(8) as pool:
        codes = sorted(pool.map(put, range(8)))
    assert codes == [200] * 7 + [201]


def test_auth_required(eakte: EakteServer) -> None:
    az = _az()
    for headers in ({}, {"Authorization": "Bearer falsch"}, {"Authorization": eakte.token}):
        with httpx.Client(base_url=eakte.base_url, headers=headers) as c:
            for r in (
                c.put(f"/akten/{az}"),
                c.get(f"/akten/{az}"),
                c.put(f"/akten/{az}/dokumente/k", content=b"1"),
                c.get(f"/akten/{az}/dokumente/k"),
            ):
                assert r.status_code == 401
                assert r.headers["content-type"] == PROBLEM
    # the client token is not the admin token
    with eakte.client() as c:
        assert c.get("/admin/export").status_code == 401
    assert all(a["aktenzeichen"] != az for a in eakte.export()["akten"])


def test_invalid_names_rejected(eakte: EakteServer) -> None:
    with eakte.client() as c:
        r = c.put("/akten/" + "x" * 201)
        assert r.status_code == 400
        assert r.headers["content-type"] == PROBLEM


def test_fault_knobs_answer_problem_json(eakte_faults: EakteServer) -> None:
    eakte_faults.set_faults(error_rate=1.0)
    with eakte_faults.client() as c:
        r = c.put(f"/akten/{_az()}")
        assert r.status_code in (500, 503)
        assert r.headers["content-type"] == PROBLEM
        eakte_faults.set_faults(error_rate=0.0, maintenance=True)
        r = c.get(f"/akten/{_az()}")
        assert (r.status_code, r.json()["title"]) == (503, "Wartungsarbeiten")
        eakte_faults.reset_faults()
        assert c.put(f"/akten/{_az()}").status_code == 201
