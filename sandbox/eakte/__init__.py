"""e-Akte Musterstadt: the document management service cases are filed in (REST, Bearer token).

Start it with ``create_app(EakteConfig(data_dir=...))``. Clients send
``Authorization: Bearer <token>``; errors are ``application/problem+json``.

- ``PUT /akten/{az}`` creates the Akte or finds it: 201 / 200, ``{aktenzeichen, created}``.
- ``GET /akten/{az}``: ``{aktenzeichen, documents: [{key, filename, mimeType, sha256, size,
  created_at}]}``; 404 if missing.
- ``PUT /akten/{az}/dokumente/{key}``: raw body, headers ``Content-Type`` and ``X-Filename``
  (percent-encoded UTF-8 allowed; default: the key). 201 stored, 200 the same bytes are already
  there (nothing changes, the first filename/type stay), 409 other bytes under that key, 404 no
  such Akte, 413 larger than ``max_document_bytes``. Answers the document's metadata.
- ``GET /akten/{az}/dokumente/{key}``: the bytes with their content type and ``ETag`` (sha256).
- Aktenzeichen, keys and filenames: 1–200 characters, no ``/``, ``\\`` or control characters.
- Tests only (admin token): ``GET /admin/export``, ``POST /admin/reset``, ``GET/PUT
  /admin/faults`` (the common fault knobs, JSON error answers).
"""

from __future__ import annotations

from sandbox.eakte._app import create_app
from sandbox.eakte._config import EakteConfig

__all__ = ["EakteConfig", "create_app"]
