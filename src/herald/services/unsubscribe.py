"""One-click unsubscribe links (RFC 8058): read the signed token, suppress the address.

The token in ``List-Unsubscribe: <{public_base_url}/u/{token}>`` names the
recipient and the list, signed with the sending integration's
``unsubscribe_secret``; it is checked against the secret of every email
integration, *including inactive ones*: a link in a mail sent last month
must keep working after its integration was switched off (mailbox
providers and the law expect unsubscribe links to outlive the campaign).

Reading a token changes nothing, so the confirmation page can be shown to a
link prefetcher safely; only :meth:`UnsubscribeLinks.unsubscribe` (the
POST) writes, and writing twice keeps the first entry.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from herald.channels.email import EmailSettings, UnsubscribeSubject, read_unsubscribe_token
from herald.clock import Clock
from herald.domain.channels import IntegrationKind
from herald.errors import NotFoundError, ValidationError
from herald.services.optout import record_one_click_unsubscribe
from herald.services.suppression import SuppressResult
from herald.services.webhook_credentials import WebhookCredentials

MAX_TOKEN_LENGTH = 1024  # real tokens are ~100 characters; longer is not ours


class InvalidUnsubscribeLinkError(NotFoundError):
    code = "unsubscribe_link_invalid"


class UnsubscribeLinks:
    def __init__(self, credentials: WebhookCredentials, clock: Clock) -> None:
        self.credentials = credentials
        self.clock = clock

    def read(self, session: Session, token: str) -> UnsubscribeSubject:
        """Who the link unsubscribes; :class:`InvalidUnsubscribeLinkError` if no secret signs it.

        Every secret is tried, so the time taken does not reveal which one
        (if any) was close.
        """
        if not token or len(token) > MAX_TOKEN_LENGTH:
            raise _invalid()
        accounts = self.credentials.of_kind(
            session, IntegrationKind.EMAIL_SMTP, EmailSettings, active_only=False
        )
        subjects: list[UnsubscribeSubject] = []
        for account in accounts:
            secret = account.settings.unsubscribe_secret
            if secret is None:
                continue
            try:
                subjects.append(read_unsubscribe_token(token, secret.get_secret_value()))
            except ValidationError:
                continue
        if not subjects:
            raise _invalid()
        return subjects[0]

    def unsubscribe(self, session: Session, token: str) -> SuppressResult:
        """Suppress the link's address on every channel and commit; idempotent."""
        subject = self.read(session, token)
        result = record_one_click_unsubscribe(
            session, subject.address, clock=self.clock, campaign_id=campaign_id_of(subject.list_id)
        )
        session.commit()
        return result


def campaign_id_of(list_id: str) -> int | None:
    """The campaign a list id names: campaigns use their numeric id as the list id."""
    is_number = list_id.isascii() and list_id.isdigit() and len(list_id) < 10
    return int(list_id) if is_number else None


def _invalid() -> InvalidUnsubscribeLinkError:
    return InvalidUnsubscribeLinkError("this unsubscribe link is not valid", field="token")
