"""What mail systems send back: bounces (RFC 3464 DSNs) and people's replies.

The sandbox builds them from the message it accepted, the way a receiving
MTA and a mail client would, so Herald's parsers meet realistic input.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from email import message_from_bytes
from email.message import EmailMessage, Message
from email.mime.base import MIMEBase
from email.mime.message import MIMEMessage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime, make_msgid, parseaddr

from herald.channels.email.classify import CATALOG, KIND

REPORTING_MTA = "sandbox.smtp.test"
_ENHANCED = re.compile(r"^[245]\.\d{1,3}\.\d{1,3}$")
_BASIC = re.compile(r"^[45]\d\d$")
# Reply codes that go with an enhanced code when it is not the default 451/550.
_BASIC_FOR = {
    "4.2.1": "450", "4.2.2": "452", "4.3.1": "452", "5.1.3": "553",
    "5.2.2": "552", "5.2.3": "552", "5.3.4": "552", "5.7.1": "554",
}  # fmt: skip


@dataclass(frozen=True)
class SmtpRefusal:
    """An SMTP failure as both codes: ``550`` and ``5.1.1``."""

    basic: str
    enhanced: str

    @classmethod
    def parse(cls, code: str) -> SmtpRefusal:
        """``"5.1.1"`` → 550/5.1.1; ``"421"`` → 421/4.0.0; anything else is refused."""
        code = code.strip()
        if _ENHANCED.match(code):
            default = "451" if code.startswith("4") else "550"
            return cls(_BASIC_FOR.get(code, default), code)
        if _BASIC.match(code):
            return cls(code, f"{code[0]}.0.0")
        raise ValueError(f"{code!r} is neither an SMTP reply code nor an enhanced status code")

    @property
    def title(self) -> str:
        return CATALOG.describe(KIND, self.enhanced).title

    def reply_line(self, address: str) -> str:
        return f"{self.basic} {self.enhanced} <{address}>: {self.title}"


def build_dsn(
    original: bytes, *, bounce_to: str, recipient: str, refusal: SmtpRefusal, now: datetime
) -> bytes:
    """A ``multipart/report`` DSN for ``recipient`` with the original attached."""
    report = MIMEMultipart("report")
    report.set_param("report-type", "delivery-status")
    report["From"] = f"Mail Delivery System <MAILER-DAEMON@{REPORTING_MTA}>"
    report["To"] = bounce_to
    report["Subject"] = "Undelivered Mail Returned to Sender"
    report["Date"] = format_datetime(now)
    report["Message-ID"] = make_msgid(domain=REPORTING_MTA)
    report["Auto-Submitted"] = "auto-replied"
    human = (
        f"This is the mail system at host {REPORTING_MTA}.\n\n"
        f"Your message could not be delivered to <{recipient}>:\n"
        f"{refusal.reply_line(recipient)}\n"
    )
    report.attach(MIMEText(human, "plain", "utf-8"))
    report.attach(_delivery_status(recipient, refusal, now))
    report.attach(MIMEMessage(message_from_bytes(original)))
    return report.as_bytes()


def _delivery_status(recipient: str, refusal: SmtpRefusal, now: datetime) -> MIMEBase:
    per_message = Message()
    per_message["Reporting-MTA"] = f"dns; {REPORTING_MTA}"
    per_message["Arrival-Date"] = format_datetime(now)
    per_recipient = Message()
    per_recipient["Final-Recipient"] = f"rfc822; {recipient}"
    per_recipient["Action"] = "failed" if refusal.basic.startswith("5") else "delayed"
    per_recipient["Status"] = refusal.enhanced
    per_recipient["Remote-MTA"] = f"dns; mx.{recipient.rsplit('@', 1)[-1]}"
    per_recipient["Diagnostic-Code"] = f"smtp; {refusal.reply_line(recipient)}"
    per_recipient["Last-Attempt-Date"] = format_datetime(now)
    part = MIMEBase("message", "delivery-status")
    part.attach(per_message)
    part.attach(per_recipient)
    return part


@dataclass(frozen=True)
class SimulatedReply:
    """A person's answer to one message, before it is put in a webhook format."""

    sender: str
    to: str
    subject: str
    text: str
    quoted_text: str
    message_id: str
    in_reply_to: str
    references: str
    date: str


def simulate_reply(
    original: EmailMessage, *, person: str, text: str, now: datetime
) -> SimulatedReply:
    """``person`` answers ``original`` with ``text`` from a typical mail client."""
    reply_to = original.get("Reply-To") or original.get("From", "")
    _, to = parseaddr(str(reply_to))
    subject = str(original.get("Subject", ""))
    if not subject.lower().startswith("re:"):
        subject = f"Re: {subject}"
    ours = str(original.get("Message-ID", "")).strip()
    earlier = str(original.get("References", "")).split()
    date = format_datetime(now)
    body = original.get_body(preferencelist=("plain",))
    original_text = body.get_content() if isinstance(body, EmailMessage) else ""
    author_name, author_address = parseaddr(str(original.get("From", "")))
    quoted = "\n".join(f"> {line}" for line in original_text.splitlines())
    attribution = f"On {date}, {author_name or author_address or 'you'} wrote:"
    return SimulatedReply(
        sender=person,
        to=to,
        subject=subject,
        text=text,
        quoted_text=f"{text}\n\n{attribution}\n{quoted}\n",
        message_id=make_msgid(domain=person.rsplit("@", 1)[-1]),
        in_reply_to=ours,
        references=" ".join([*earlier, ours]),
        date=date,
    )


def generic_json(reply: SimulatedReply) -> bytes:
    """Herald's generic inbound JSON (see ``herald.channels.email.formats``)."""
    body = {
        "from": reply.sender,
        "to": reply.to,
        "subject": reply.subject,
        "text": reply.quoted_text,
        "html": None,
        "message_id": reply.message_id,
        "in_reply_to": reply.in_reply_to,
        "references": reply.references,
        "headers": {"Date": reply.date},
    }
    return json.dumps(body).encode("utf-8")


def postmark_json(reply: SimulatedReply, *, inbound_id: str) -> bytes:
    """Postmark's inbound webhook shape (providers.md 4.5)."""
    mailbox_hash = reply.to.rsplit("@", 1)[0].partition("+")[2]
    body = {
        "From": reply.sender,
        "FromName": "",
        "FromFull": {"Email": reply.sender, "Name": "", "MailboxHash": ""},
        "To": reply.to,
        "ToFull": [{"Email": reply.to, "Name": "", "MailboxHash": mailbox_hash}],
        "Cc": "", "CcFull": [], "Bcc": "", "BccFull": [], "ReplyTo": "",
        "OriginalRecipient": reply.to,
        "Subject": reply.subject,
        "MessageID": inbound_id,
        "Date": reply.date,
        "MailboxHash": mailbox_hash,
        "Tag": "",
        "MessageStream": "inbound",
        "TextBody": reply.quoted_text,
        "HtmlBody": "",
        "StrippedTextReply": reply.text,
        "Headers": [
            {"Name": "Message-ID", "Value": reply.message_id},
            {"Name": "In-Reply-To", "Value": reply.in_reply_to},
            {"Name": "References", "Value": reply.references},
        ],
        "Attachments": [],
    }  # fmt: skip
    return json.dumps(body).encode("utf-8")
