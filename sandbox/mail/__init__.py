"""Mail Musterstadt: the mail system letters to citizens arrive in (SMTP intake and webmail).

Start it with ``serve_mail(MailConfig(data_dir=...))``; it yields a `RunningMail` with the SMTP
host and port and the webmail's ``base_url``. The intake accepts mail for any recipient and files
one copy per recipient in that address's mailbox (created on first delivery). The store keeps the
raw RFC 5322 bytes with IMAP-ready UIDs, so an IMAP server can later serve the same mailboxes.

Webmail (HTML, read-only; everything from a message is escaped):

- ``GET /``: the mailboxes with their message counts.
- ``GET /mailbox/{address}``: its messages, newest first (arrival, From, Subject); 404 if none.
- ``GET /mailbox/{address}/{id}``: one message, its text part and attachments as download links;
  a PGP/MIME message is shown as "verschlüsselt" with its armored block as the attachment.
- ``GET /mailbox/{address}/{id}/attachments/{n}``: the bytes of attachment `n` (from 0).
- ``GET /mailbox/{address}/{id}/raw``: the whole message as it arrived (``.eml``), e.g. to open
  an encrypted one in a mail client that holds the key.
- Tests only (admin token): ``GET /admin/messages?to=`` (metadata, no bodies), ``POST
  /admin/reset``.
"""

from __future__ import annotations

from sandbox.mail._app import create_app
from sandbox.mail._config import MailConfig
from sandbox.mail._serve import RunningMail, serve_mail
from sandbox.mail._store import MailStore

__all__ = ["MailConfig", "MailStore", "RunningMail", "create_app", "serve_mail"]
