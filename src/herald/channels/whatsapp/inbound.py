"""What a person sent, as text an agent and a conversation view can show.

Text is kept as typed; a template quick-reply tap gives the button's text
and its payload; an interactive reply gives the option's title and id; other
types (media, location, contacts, reactions, orders...) become a short
bracketed description so the reply is never lost, even when Herald cannot
use its content.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from herald.channels.whatsapp.fields import Json, obj, optional_text, text

MEDIA_TYPES = frozenset({"image", "video", "audio", "document", "sticker"})


@dataclass(frozen=True)
class DescribedMessage:
    text: str
    payload: str | None = None
    reacts_to: str | None = None  # the wamid a reaction points at


def describe_message(item: Json, path: str) -> DescribedMessage:
    kind = text(item, "type", path)
    body = item.get(kind)
    where = f"{path}.{kind}"
    if kind == "text":
        return DescribedMessage(text(obj(body, where), "body", where))
    if kind == "button":
        return _button(obj(body, where), where)
    if kind == "interactive":
        return _interactive(obj(body, where), where)
    if kind == "reaction":
        return _reaction(obj(body, where), where)
    if kind == "unsupported":
        return DescribedMessage(f"[unsupported message: {_first_error_title(item)}]")
    if kind in MEDIA_TYPES:
        return DescribedMessage(_media(kind, body if isinstance(body, dict) else {}))
    return DescribedMessage(_other(kind, body))


def _button(button: Json, path: str) -> DescribedMessage:
    payload = optional_text(button, "payload", path)
    label = optional_text(button, "text", path) or payload or "(button)"
    return DescribedMessage(label, payload=payload)


def _interactive(interactive: Json, path: str) -> DescribedMessage:
    subtype = text(interactive, "type", path)
    reply = interactive.get(subtype)
    if subtype in ("button_reply", "list_reply"):
        reply_obj = obj(reply, f"{path}.{subtype}")
        title = text(reply_obj, "title", f"{path}.{subtype}")
        return DescribedMessage(title, payload=optional_text(reply_obj, "id", f"{path}.{subtype}"))
    if subtype == "nfm_reply" and isinstance(reply, dict):
        response = reply.get("response_json")
        return DescribedMessage(
            "[form reply]", payload=response if isinstance(response, str) else None
        )
    return DescribedMessage(f"[interactive reply: {subtype}]")


def _reaction(reaction: Json, path: str) -> DescribedMessage:
    emoji = optional_text(reaction, "emoji", path)
    described = f"[reaction {emoji}]" if emoji else "[reaction removed]"
    return DescribedMessage(described, reacts_to=optional_text(reaction, "message_id", path))


def _media(kind: str, media: Json) -> str:
    label = "voice message" if kind == "audio" and media.get("voice") is True else kind
    filename = media.get("filename")
    if kind == "document" and isinstance(filename, str) and filename:
        label = f"document: {filename}"
    caption = media.get("caption")
    return f"[{label}] {caption}" if isinstance(caption, str) and caption else f"[{label}]"


def _other(kind: str, body: Any) -> str:
    if kind == "location" and isinstance(body, dict):
        return _location(body)
    if kind == "contacts" and isinstance(body, list):
        names = [_contact_name(card) for card in body]
        return f"[contact card: {', '.join(name for name in names if name) or 'unnamed'}]"
    if kind == "order" and isinstance(body, dict):
        products = body.get("product_items")
        count = len(products) if isinstance(products, list) else 0
        return f"[order: {count} item{'s' if count != 1 else ''}]"
    if kind == "system" and isinstance(body, dict) and isinstance(body.get("body"), str):
        return f"[system: {body['body']}]"
    return f"[{kind} message]"


def _location(location: Json) -> str:
    parts = [
        str(location[key]) for key in ("name", "address") if isinstance(location.get(key), str)
    ]
    latitude, longitude = location.get("latitude"), location.get("longitude")
    if isinstance(latitude, int | float) and isinstance(longitude, int | float):
        parts.append(f"{latitude}, {longitude}")
    return f"[location: {'; '.join(parts)}]" if parts else "[location]"


def _contact_name(card: Any) -> str | None:
    if isinstance(card, dict) and isinstance(card.get("name"), dict):
        name = card["name"].get("formatted_name")
        return name if isinstance(name, str) else None
    return None


def _first_error_title(item: Json) -> str:
    errors = item.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        first = errors[0]
        error_data = first.get("error_data")
        for candidate in (
            error_data.get("details") if isinstance(error_data, dict) else None,
            first.get("title"),
            first.get("message"),
        ):
            if isinstance(candidate, str) and candidate:
                return candidate
    return "type not supported"
