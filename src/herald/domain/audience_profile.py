"""What the checks and the estimate need to know about an audience: counts.

An :class:`AudienceProfile` is a handful of numbers one SQL query over the
contacts can produce (``count(*) filter (where ...)`` per column), so
reviewing a campaign never loads its contacts.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated

from pydantic import Field, model_validator

from herald.domain.channels import ContactField
from herald.domain.modeling import FrozenModel
from herald.domain.templates import available_variables

Count = Annotated[int, Field(ge=0)]


class AudienceProfile(FrozenModel):
    """Counts describing an audience, enough to check and estimate a journey.

    ``non_empty`` counts, per custom column, contacts with a non-blank value.
    The optional ``non_empty_with_phone`` / ``non_empty_with_email`` count
    the same among contacts that have a phone / an email; with them the
    "variable empty" numbers are exact for the contacts a step reaches,
    without them they are counted over the whole audience.
    """

    columns: tuple[str, ...]
    total: Count
    with_phone: Count
    with_email: Count
    with_phone_and_email: Count
    non_empty: dict[str, Count]
    non_empty_with_phone: dict[str, Count] | None = None
    non_empty_with_email: dict[str, Count] | None = None

    @model_validator(mode="after")
    def _consistent(self) -> AudienceProfile:
        both = self.with_phone_and_email
        if max(self.with_phone, self.with_email) > self.total or both > min(
            self.with_phone, self.with_email
        ):
            raise ValueError("contact counts are inconsistent")
        if self.with_phone + self.with_email - both > self.total:
            raise ValueError("contact counts are inconsistent")
        return self

    @property
    def variables(self) -> frozenset[str]:
        return available_variables(self.columns)

    def with_field(self, needed: ContactField) -> int:
        return self.with_phone if needed is ContactField.PHONE else self.with_email

    def lacking_value(self, name: str, among: ContactField) -> tuple[int, bool]:
        """Contacts having ``among`` but no value for ``name``: (count, exact?)."""
        reachable = self.with_field(among)
        if name in ("phone", "email"):
            if name == among:
                return 0, True
            return reachable - self.with_phone_and_email, True
        per_field = (
            self.non_empty_with_phone if among is ContactField.PHONE else self.non_empty_with_email
        )
        if per_field is not None:
            return max(0, reachable - per_field.get(name, 0)), True
        return max(0, self.total - self.non_empty.get(name, 0)), False

    def groups(self) -> dict[frozenset[ContactField], int]:
        """Contacts split by the addresses they have; the groups do not overlap."""
        both = self.with_phone_and_email
        return {
            frozenset({ContactField.PHONE, ContactField.EMAIL}): both,
            frozenset({ContactField.PHONE}): self.with_phone - both,
            frozenset({ContactField.EMAIL}): self.with_email - both,
            frozenset(): self.total - self.with_phone - self.with_email + both,
        }


def reachable_by_any(audience: AudienceProfile, needs: Iterable[ContactField]) -> int:
    """Contacts that have at least one of the ``needs`` fields."""
    wanted = set(needs)
    if wanted == {ContactField.PHONE, ContactField.EMAIL}:
        return audience.with_phone + audience.with_email - audience.with_phone_and_email
    return sum(audience.with_field(field) for field in wanted)
