"""The SMTP side of mail: CODESIGN_SMTP_URL parsed and checked, and one message handed to a server.

Standard library only (smtplib, email). The URL holds a password, so no error message here ever
quotes the URL or the password; the worker logs message ids, never addresses (codesign.mail.worker).
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from urllib.parse import unquote, urlsplit

from codesign.validation import EMAIL

DEFAULT_PORTS = {"smtp": 587, "smtps": 465}
TIMEOUT_SECONDS = 30


class MailSettingsError(ValueError):
    """CODESIGN_SMTP_URL or CODESIGN_MAIL_FROM is unusable (the message never quotes the password)."""


@dataclass(frozen=True)
class SmtpTarget:
    host: str
    port: int
    implicit_tls: bool  # smtps://: TLS from the first byte
    username: str = ""
    password: str = field(default="", repr=False)

    @property
    def starttls(self) -> bool:
        """smtp:// with a login upgrades with STARTTLS (a password never crosses in clear text);
        smtp://host:port with no login is a local relay or a test server, spoken to as it is."""
        return not self.implicit_tls and bool(self.username)


def parse_smtp_url(url: str) -> SmtpTarget:
    # The SettingsError text must not include the URL: it may hold the password.
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise MailSettingsError("CODESIGN_SMTP_URL is not a valid address; use smtp://user:password@host:587 "
                                "or smtps://user:password@host:465") from None
    if parts.scheme not in DEFAULT_PORTS:
        raise MailSettingsError("CODESIGN_SMTP_URL must start with smtp:// (STARTTLS) or smtps:// (TLS)")
    if not parts.hostname:
        raise MailSettingsError("CODESIGN_SMTP_URL must name a host, like smtp://user:password@host:587")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise MailSettingsError("CODESIGN_SMTP_URL takes no path or query: smtp://user:password@host:587")
    username, password = unquote(parts.username or ""), unquote(parts.password or "")
    if bool(username) != bool(password):
        raise MailSettingsError("CODESIGN_SMTP_URL must give both a user name and a password, or neither")
    return SmtpTarget(host=parts.hostname, port=port or DEFAULT_PORTS[parts.scheme],
                      implicit_tls=parts.scheme == "smtps", username=username, password=password)


def check_mail_settings(smtp_url: str, mail_from: str) -> None:
    """Both or neither: mail needs a server and a sender."""
    if smtp_url and not mail_from:
        raise MailSettingsError("CODESIGN_MAIL_FROM must be set with CODESIGN_SMTP_URL, "
                                "like \"NHS Outcomes Study <outcomes@example.nhs.uk>\"")
    if mail_from and not smtp_url:
        raise MailSettingsError("CODESIGN_SMTP_URL must be set with CODESIGN_MAIL_FROM")
    _name, address = parseaddr(mail_from)
    if not EMAIL.match(address or ""):
        raise MailSettingsError("CODESIGN_MAIL_FROM must be an email address, like outcomes@example.nhs.uk "
                                "or \"NHS Outcomes Study <outcomes@example.nhs.uk>\"")
    parse_smtp_url(smtp_url)


@dataclass(frozen=True)
class Outgoing:
    """One message, ready to hand to a server."""

    to: str
    subject: str
    text: str
    html: str
    unsubscribe_url: str
    message_id: int  # the outbox row's id, in a header: a delivered copy can be traced to its row


def build(mail_from: str, message: Outgoing) -> EmailMessage:
    email = EmailMessage()
    email["From"] = mail_from
    email["To"] = message.to
    email["Subject"] = message.subject
    email["Date"] = formatdate(localtime=False)
    email["Message-ID"] = make_msgid(idstring=f"outbox{message.message_id}")
    # RFC 8058 one-click: a mail client POSTs "List-Unsubscribe=One-Click" to this address, with no
    # page and no CSRF token (routes.online.one_click; its GET shows the ordinary unsubscribe page).
    email["List-Unsubscribe"] = f"<{message.unsubscribe_url}/one-click>"
    email["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    email["X-Codesign-Outbox-Id"] = str(message.message_id)
    email.set_content(message.text)
    email.add_alternative(message.html, subtype="html")
    return email


def send(target: SmtpTarget, mail_from: str, message: Outgoing) -> None:
    """Hand one message to the server; raises OSError or smtplib.SMTPException when it cannot."""
    email = build(mail_from, message)
    context = ssl.create_default_context()
    client: smtplib.SMTP
    if target.implicit_tls:
        client = smtplib.SMTP_SSL(target.host, target.port, timeout=TIMEOUT_SECONDS, context=context)
    else:
        client = smtplib.SMTP(target.host, target.port, timeout=TIMEOUT_SECONDS)
    with client:
        if target.starttls:
            client.starttls(context=context)
        if target.username:
            client.login(target.username, target.password)
        client.send_message(email)
