"""Mail connector: internal notifications over SMTP (plain text, UTF-8).

```
mailer = Mailer(MailSettings())                       # env AMTSBOTE_MAIL_*
subject, body = review_notice(reference=sid, reason_code=exc.code, review_url=url)
mailer.notify("sachbearbeitung@musterstadt.example", subject, body)
```

Notifications carry ids and links only, never citizens' personal data.

Reply mails to a citizen who gave an OpenPGP key go out as PGP/MIME (RFC 3156):
`encrypt_message(msg, armored_public_key)`; a key that cannot encrypt raises `PgpKeyUnusable`
(a `BusinessRuleError`: send the letter another way, do not retry).
"""

from __future__ import annotations

from connectors.mail._mailer import REVIEW_REASONS, Mailer, reason_text, review_notice
from connectors.mail._pgp import PgpKeyUnusable, encrypt_data, encrypt_message
from connectors.mail._settings import MailSettings

__all__ = [
    "REVIEW_REASONS",
    "MailSettings",
    "Mailer",
    "PgpKeyUnusable",
    "encrypt_data",
    "encrypt_message",
    "reason_text",
    "review_notice",
]
