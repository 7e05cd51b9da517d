"""Mail connector: internal notifications over SMTP (plain text, UTF-8).

```
mailer = Mailer(MailSettings())                       # env AMTSBOTE_MAIL_*
subject, body = review_notice(reference=sid, reason_code=exc.code, review_url=url)
mailer.notify("sachbearbeitung@musterstadt.example", subject, body)
```

Notifications carry ids and links only, never citizens' personal data.
"""

from __future__ import annotations

from connectors.mail._mailer import Mailer, review_notice
from connectors.mail._settings import MailSettings

__all__ = ["MailSettings", "Mailer", "review_notice"]
