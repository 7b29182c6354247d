"""The first row of every phone and email seen so far, in compact memory.

A million-row upload has up to two million contact values to remember. As a
``dict`` of strings that costs about 250 MB; here it costs under 100 MB:
open-addressing tables in :mod:`array` buffers (linear probing, at most half
full) hold a 64-bit key and a row number per slot.

* Phones are keyed exactly: an E.164 number has at most 15 digits and no
  leading zero, so its digits as an integer identify it.
* Emails are keyed by a 63-bit hash of the comparison key and checked
  against the key's exact bytes, kept once in an append-only arena; two
  addresses that hash alike are still told apart.

The probing loops are written out in :meth:`DuplicateIndex.claim` and
:meth:`DuplicateIndex.claim_batch` because they run once per row in the
process that reads the file.
"""

from __future__ import annotations

from array import array
from collections.abc import Container, Sequence
from typing import NamedTuple

INITIAL_SLOTS = 1 << 16
_MIX = 0x9E3779B97F4A7C15  # Fibonacci hashing spreads consecutive phone numbers apart
_SHIFT = 24
_POSITIVE_63_BITS = (1 << 63) - 1
_END = 0x0A  # closes each arena entry; a newline never occurs in a valid address


class _Table:
    """Slots of (key, row[, arena offset]); key 0 marks an empty slot.

    Rows and arena offsets are unsigned 32-bit: enough for 4 billion rows and
    a 4 GB arena, far beyond any upload.
    """

    def __init__(self, slots: int, *, with_offsets: bool) -> None:
        self.mask = slots - 1
        self.keys = array("q", bytes(8 * slots))
        self.rows = array("I", bytes(4 * slots))
        self.offsets = array("I", bytes(4 * slots)) if with_offsets else None
        self.size = 0

    def grown(self) -> _Table:
        """The same entries in twice the slots."""
        bigger = _Table(2 * (self.mask + 1), with_offsets=self.offsets is not None)
        keys, rows, mask = bigger.keys, bigger.rows, bigger.mask
        offsets = bigger.offsets
        for slot, key in enumerate(self.keys):
            if key:
                index = ((key * _MIX) >> _SHIFT) & mask
                while keys[index]:
                    index = (index + 1) & mask
                keys[index] = key
                rows[index] = self.rows[slot]
                if offsets is not None and self.offsets is not None:
                    offsets[index] = self.offsets[slot]
        bigger.size = self.size
        return bigger


class Repeat(NamedTuple):
    """A row of a batch whose phone or email an earlier row has (see
    :meth:`DuplicateIndex.claim_batch`)."""

    position: int
    phone_row: int | None
    email_row: int | None


class DuplicateIndex:
    """Remembers where each contact value first appeared."""

    def __init__(self, expected_rows: int = 0) -> None:
        """``expected_rows`` sizes the tables up front, sparing their growth (a
        rehash of every entry, each time the table doubles)."""
        slots = max(INITIAL_SLOTS, 1 << (2 * expected_rows).bit_length())
        self._phones = _Table(slots, with_offsets=False)
        self._emails = _Table(slots, with_offsets=True)
        self._arena = bytearray()

    def __len__(self) -> int:
        return self._phones.size + self._emails.size

    def claim(
        self, row: int, phone: str | None, email_key: str | None
    ) -> tuple[int | None, int | None]:
        """(row of the same phone, row of the same email) seen before, ``None``
        where new. When both are new, ``row`` is remembered for both; when either
        was seen, nothing is remembered (the row is a duplicate, not a contact,
        so its other value stays free for a later row)."""
        phone_row = email_row = None
        phone_key = phone_slot = email_hash = email_slot = 0
        encoded = b""
        if phone is not None:
            phone_key = int(phone[1:])
            keys, mask = self._phones.keys, self._phones.mask
            index = ((phone_key * _MIX) >> _SHIFT) & mask
            while (found := keys[index]) and found != phone_key:
                index = (index + 1) & mask
            if found:
                phone_row = self._phones.rows[index]
            phone_slot = index
        if email_key is not None:
            encoded = email_key.encode()
            email_hash = _email_hash(email_key)
            keys, mask, offsets = self._emails.keys, self._emails.mask, self._emails.offsets
            assert offsets is not None
            index = ((email_hash * _MIX) >> _SHIFT) & mask
            while found := keys[index]:
                if found == email_hash and self._arena_holds(offsets[index], encoded):
                    email_row = self._emails.rows[index]
                    break
                index = (index + 1) & mask
            email_slot = index
        if phone_row is None and email_row is None:
            if phone_key:
                self._remember_phone(phone_slot, phone_key, row)
            if email_hash:
                self._remember_email(email_slot, email_hash, encoded, row)
        return phone_row, email_row

    def claim_batch(
        self,
        rows: Sequence[int],
        phones: Sequence[str],
        email_keys: Sequence[str],
        skip: Container[int],
    ) -> list[Repeat]:
        """:meth:`claim` for each row of a batch in order (``""`` for no value),
        except the positions in ``skip``; the rows that repeat an earlier one.

        The same as calling :meth:`claim` row by row, without a call and a
        tuple per row: this is the one per-row step an import cannot hand to
        worker processes, since it needs every earlier row.
        """
        repeats: list[Repeat] = []
        phones_table, emails_table = self._phones, self._emails
        phone_keys, phone_rows = phones_table.keys, phones_table.rows
        email_hashes, email_rows = emails_table.keys, emails_table.rows
        phone_mask, email_mask, offsets = phones_table.mask, emails_table.mask, emails_table.offsets
        assert offsets is not None
        for position, row in enumerate(rows):
            if position in skip:
                continue
            phone, key = phones[position], email_keys[position]
            phone_row = email_row = None
            phone_key = phone_slot = email_hash = email_slot = 0
            if phone:
                phone_key = int(phone[1:])
                index = ((phone_key * _MIX) >> _SHIFT) & phone_mask
                while (found := phone_keys[index]) and found != phone_key:
                    index = (index + 1) & phone_mask
                if found:
                    phone_row = phone_rows[index]
                phone_slot = index
            if key:
                encoded = key.encode()
                email_hash = _email_hash(key)
                index = ((email_hash * _MIX) >> _SHIFT) & email_mask
                while found := email_hashes[index]:
                    if found == email_hash and self._arena_holds(offsets[index], encoded):
                        email_row = email_rows[index]
                        break
                    index = (index + 1) & email_mask
                email_slot = index
            if phone_row is not None or email_row is not None:
                repeats.append(Repeat(position, phone_row, email_row))
                continue
            if phone_key:
                self._remember_phone(phone_slot, phone_key, row)
                if self._phones is not phones_table:  # grown: look in the new table
                    phones_table = self._phones
                    phone_keys, phone_rows = phones_table.keys, phones_table.rows
                    phone_mask = phones_table.mask
            if email_hash:
                self._remember_email(email_slot, email_hash, encoded, row)
                if self._emails is not emails_table:
                    emails_table = self._emails
                    email_hashes, email_rows = emails_table.keys, emails_table.rows
                    email_mask, offsets = emails_table.mask, emails_table.offsets
                    assert offsets is not None
        return repeats

    def _remember_phone(self, slot: int, key: int, row: int) -> None:
        table = self._phones
        table.keys[slot] = key
        table.rows[slot] = row
        table.size += 1
        if 2 * table.size > table.mask:
            self._phones = table.grown()

    def _remember_email(self, slot: int, hashed: int, encoded: bytes, row: int) -> None:
        table = self._emails
        assert table.offsets is not None
        table.keys[slot] = hashed
        table.rows[slot] = row
        table.offsets[slot] = len(self._arena)
        self._arena += encoded
        self._arena.append(_END)
        table.size += 1
        if 2 * table.size > table.mask:
            self._emails = table.grown()

    def _arena_holds(self, offset: int, encoded: bytes) -> bool:
        end = offset + len(encoded)
        return self._arena[offset:end] == encoded and self._arena[end] == _END


def _email_hash(email_key: str) -> int:
    """Never 0, which marks an empty slot."""
    return (hash(email_key) & _POSITIVE_63_BITS) or 1
