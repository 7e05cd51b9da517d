"""Sources of work items: where a process's items come from and how receipt is acknowledged.

```
source = PortalSource(PortalClient(PortalSettings()), parse=parse_hundesteuer)
for item in source.list_new():
    try:
        received = source.fetch(item)          # decrypted, verified, parsed into the record
    except SubmissionInvalid as exc:           # technically broken: never a work item
        source.reject(item, exc)
        continue
    store.add(process, item.item_key, source.encode(received))   # first keep it …
    source.acknowledge(received)                                 # … then confirm receipt
```

`Source` is the protocol (an IMAP mailbox source follows the same shape), `Delivery` the way
letters go back to the person who filed the item: for the portal `ReplyChannels`, over the
``replyChannel`` of the submission's metadata (e-mail over SMTP, else print and post).
"""

from __future__ import annotations

from connectors.sources._portal import PortalSource
from connectors.sources._reply import (
    Convert,
    Encrypt,
    ReplyChannels,
    ReplySettings,
    pdf_letter,
    reply_channel,
)
from connectors.sources._source import (
    Delivered,
    Delivery,
    Document,
    Receipt,
    Received,
    Source,
    SourceItem,
)

__all__ = [
    "Convert",
    "Delivered",
    "Delivery",
    "Document",
    "Encrypt",
    "PortalSource",
    "Receipt",
    "Received",
    "ReplyChannels",
    "pdf_letter",
    "ReplySettings",
    "Source",
    "SourceItem",
    "reply_channel",
]
