"""Archive connector: file documents in the e-Akte under an Aktenzeichen, put-by-key.

```
with EakteClient(EakteSettings()) as archive:          # env AMTSBOTE_EAKTE_*
    archive.put_document(az, f"antrag-{sid}", "antrag.json", "application/json", data)
```

Every put is idempotent by (Aktenzeichen, key); a key that already holds *other* bytes raises
`ReviewRequired` (code ``archive-conflict``) because a clerk must decide which is right.
"""

from __future__ import annotations

from connectors.archive._client import DocumentInfo, EakteClient, PutResult, StoredDocument
from connectors.archive._settings import EakteSettings

__all__ = ["DocumentInfo", "EakteClient", "EakteSettings", "PutResult", "StoredDocument"]
