"""What the three builder steps share: the step indicator, navigation and messages."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi.responses import RedirectResponse

from herald.services.campaign_views import CampaignView
from herald.services.container import Herald
from herald.web.templating import NAV_LINKS

STEPS = (("setup", "Setup"), ("journey", "Message journey"), ("review", "Review"))
STEP_NAMES = tuple(name for name, _label in STEPS)
EXIT = "exit"
LIST_URL = NAV_LINKS[0][0]


@dataclass(frozen=True)
class StepLink:
    name: str
    label: str
    number: int
    href: str
    is_current: bool
    is_done: bool


def step_links(campaign_id: int, current: str) -> list[StepLink]:
    """The indicator: every step is a link, so the user can move back (or ahead) at any time."""
    position = STEP_NAMES.index(current)
    return [
        StepLink(
            name,
            label,
            number,
            f"/campaigns/{campaign_id}/{name}",
            name == current,
            number - 1 < position,
        )
        for number, (name, label) in enumerate(STEPS, start=1)
    ]


def destination(campaign_id: int, current: str, go: str) -> str:
    """Where a builder form goes after saving: another step, the list ("Save & exit"), or back.

    Anything unexpected stays on the current step, so a forged value cannot
    send the browser elsewhere.
    """
    if go == EXIT:
        return LIST_URL
    if go == "next":
        position = STEP_NAMES.index(current)
        go = STEP_NAMES[min(position + 1, len(STEP_NAMES) - 1)]
    if go == "back":
        go = STEP_NAMES[max(STEP_NAMES.index(current) - 1, 0)]
    if go not in STEP_NAMES:
        go = current
    return f"/campaigns/{campaign_id}/{go}"


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def load_campaign(herald: Herald, campaign_id: int) -> CampaignView:
    with herald.sessions() as db:
        return herald.campaigns.get(db, campaign_id)


def not_editable_redirect(campaign: CampaignView) -> RedirectResponse | None:
    """Started or final campaigns are not built any more: their page is the detail view."""
    if campaign.is_editable:
        return None
    return redirect(f"/campaigns/{campaign.id}")


def sentence(message: str) -> str:
    """An error message as a sentence: capital first letter, final full stop."""
    message = message.strip()
    if not message:
        return message
    text = message[:1].upper() + message[1:]
    return text if text.endswith((".", "!", "?")) else text + "."
