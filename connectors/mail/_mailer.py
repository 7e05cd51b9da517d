"""Internal notifications over SMTP: a Klärfall for a clerk, a failed run for an admin.

Mails leave the protected systems and sit in inboxes for years, so **a notification must not
carry citizens' personal data beyond ids**: the portal reference, the Aktenzeichen, an error
code, and a link to the review form or flow run where the authorised reader sees the details.
Callers pass subject and body; `review_notice` builds a compliant one.

Plain text, UTF-8 (``email.message.EmailMessage``). SMTP and connection failures become
`ApplicationError` (retried by the flow); the mail server refusing a recipient is a
configuration problem and also an `ApplicationError`, with its own code.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from amtsbote import ApplicationError, get_logger
from connectors.mail._settings import MailSettings

__all__ = ["REVIEW_REASONS", "Mailer", "reason_text", "review_notice"]

log = get_logger(__name__)

#: What a clerk reads for the reason codes the engine and the connectors raise for a Klärfall.
#: A code not listed is shown as it is.
REVIEW_REASONS: dict[str, str] = {
    "approval-declined": "Bescheid wurde bei der Freigabe nicht freigegeben",
    "archive-conflict": "Die e-Akte enthält zu diesem Vorgang abweichende Unterlagen",
    "archive-too-large": "Die Unterlagen sind für die e-Akte zu groß",
    "portal-decision-conflict": "Das Portal meldet eine andere Entscheidung zu diesem Antrag",
    "reply-channel-unreachable": "Das Schreiben kann auf keinem Rückkanal zugestellt werden",
    "taxpayer-address-differs": "Die Anschrift weicht von der im Fachverfahren ab",
}


def reason_text(reason_code: str) -> str:
    """The German text of a Klärfall reason code, with the code, e.g. for a mail or a list."""
    text = REVIEW_REASONS.get(reason_code)
    return f"{text} ({reason_code})" if text else reason_code


def review_notice(
    *, reference: str, reason_code: str, review_url: str, process: str = "Hundesteuer"
) -> tuple[str, str]:
    """Subject and body of a "Klärfall" mail for a clerk (ids and a link only).

    Args:
        reference: The business key (portal submission id, invoice number …).
        reason_code: The machine code of why a human is needed (e.g. ``archive-conflict``).
        review_url: Link to the review form / flow run in the Prefect UI.
        process: The business process, shown in the subject.

    Returns:
        ``(subject, body)`` for `Mailer.notify`.
    """
    subject = f"Klärfall {process}: {reference}"
    body = (
        "Guten Tag,\n\n"
        f"ein Vorgang ({process}) braucht Ihre Entscheidung.\n\n"
        f"Vorgang: {reference}\n"
        f"Grund:   {reason_text(reason_code)}\n\n"
        f"Bitte öffnen Sie die Prüfung hier:\n{review_url}\n\n"
        "Die Angaben zum Antrag sehen Sie dort. Diese Nachricht enthält bewusst keine\n"
        "personenbezogenen Daten.\n\n"
        "-- \nAmtsbote (automatische Nachricht)\n"
    )
    return subject, body


def _check_header(value: str, what: str) -> str:
    if any(c in value for c in "\r\n\x00"):
        raise ValueError(f"{what} must be a single line")
    return value


class Mailer:
    """Sends plain-text notifications through one SMTP relay (a connection per mail).

    Args:
        settings: Relay, sender, optional STARTTLS and login.
        ssl_context: TLS context for STARTTLS (default: the system's verified context).
    """

    def __init__(
        self, settings: MailSettings, *, ssl_context: ssl.SSLContext | None = None
    ) -> None:
        self.settings = settings
        self._ssl_context = ssl_context

    def build(self, to: str | Sequence[str], subject: str, body: str) -> EmailMessage:
        """The message `notify` would send (for previews and tests).

        Raises:
            ValueError: No recipient, or a header value with a line break (header injection).
        """
        recipients = [to] if isinstance(to, str) else list(to)
        recipients = recipients or list(self.settings.default_to)
        if not recipients:
            raise ValueError("no recipient and no default_to configured")
        msg = EmailMessage()
        msg["From"] = _check_header(self.settings.sender, "sender")
        msg["To"] = ", ".join(_check_header(r, "recipient") for r in recipients)
        msg["Subject"] = _check_header(subject, "subject")
        msg["Date"] = formatdate(localtime=False, usegmt=True)
        domain = self.settings.sender.rpartition("@")[2] or None
        msg["Message-ID"] = make_msgid(domain=domain)
        msg["Auto-Submitted"] = "auto-generated"
        msg.set_content(body, subtype="plain", charset="utf-8")
        return msg

    def notify(self, to: str | Sequence[str], subject: str, body: str) -> str:
        """Send one notification.

        Args:
            to: Recipient address(es); empty uses ``default_to``.
            subject: One line; ids only, no personal data.
            body: Plain text; ids and links only, no personal data.

        Returns:
            The Message-ID (log it instead of the content).

        Raises:
            ApplicationError: ``mail-unreachable``, ``mail-timeout``, ``mail-auth``,
                ``mail-recipient-refused`` or ``mail-error``.
            ValueError: Bad arguments (see `build`).
        """
        return self.send(self.build(to, subject, body))

    def send(self, msg: EmailMessage) -> str:
        """Send a message built elsewhere (a letter to a citizen, with attachments).

        Returns:
            Its Message-ID.

        Raises:
            ApplicationError: As `notify`.
        """
        s = self.settings
        try:
            with smtplib.SMTP(s.host, s.port, timeout=s.timeout_s) as smtp:
                if s.starttls:
                    smtp.starttls(context=self._ssl_context or ssl.create_default_context())
                if s.username:
                    password = s.password.get_secret_value() if s.password else ""
                    smtp.login(s.username, password)
                smtp.send_message(msg)
        except smtplib.SMTPAuthenticationError as exc:
            raise ApplicationError(
                "Anmeldung am Mailserver fehlgeschlagen.", code="mail-auth"
            ) from exc
        except smtplib.SMTPRecipientsRefused as exc:
            raise ApplicationError(
                "Der Mailserver lehnt den Empfänger ab.", code="mail-recipient-refused"
            ) from exc
        except smtplib.SMTPServerDisconnected as exc:
            raise ApplicationError(
                "Der Mailserver hat die Verbindung getrennt.", code="mail-unreachable"
            ) from exc
        except smtplib.SMTPException as exc:
            raise ApplicationError("Versand der E-Mail fehlgeschlagen.", code="mail-error") from exc
        except TimeoutError as exc:
            raise ApplicationError(
                "Der Mailserver antwortet nicht rechtzeitig.", code="mail-timeout"
            ) from exc
        except OSError as exc:
            raise ApplicationError(
                "Der Mailserver ist nicht erreichbar.", code="mail-unreachable"
            ) from exc
        message_id = str(msg["Message-ID"])
        log.info("mail.sent", message_id=message_id, recipients=len(str(msg["To"]).split(",")))
        return message_id
