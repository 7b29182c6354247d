"""The first row of every phone and email seen so far, in compact memory.

A million-row upload has up to two million contact values to remember. As a
``dict`` of strings that costs about 250 MB; here it costs about 100 MB:
open-addressing tables in :mod:`array` buffers (linear probing, at most half
full) hold a 64-bit key and a row number per slot.

* Phones are keyed exactly: an E.164 number has at most 15 digits and no
  leading zero, so its digits as an integer identify it.
* Emails are keyed by a 63-bit hash of the comparison key and checked
  against the key's exact bytes, kept once in an append-only arena; two
  addresses that hash alike are still told apart.
"""

from __future__ import annotations

from array import array

_INITIAL_CAPACITY = 1 << 12
_MIX = 0x9E3779B97F4A7C15  # Fibonacci hashing spreads consecutive phone numbers apart
_POSITIVE_63_BITS = (1 << 63) - 1


class _Table:
    """Slots of (key, row, reference); key 0 marks an empty slot."""

    def __init__(self, capacity: int, *, with_refs: bool) -> None:
        self.mask = capacity - 1
        self.keys = array("q", bytes(8 * capacity))
        self.rows = array("i", bytes(4 * capacity))
        self.refs = array("q", bytes(8 * capacity)) if with_refs else None
        self.size = 0

    def start(self, key: int) -> int:
        return ((key * _MIX) >> 24) & self.mask

    def insert(self, slot: int, key: int, row: int, ref: int = 0) -> None:
        self.keys[slot] = key
        self.rows[slot] = row
        if self.refs is not None:
            self.refs[slot] = ref
        self.size += 1

    def grown(self) -> _Table:
        bigger = _Table(2 * (self.mask + 1), with_refs=self.refs is not None)
        keys, mask = bigger.keys, bigger.mask
        for slot, key in enumerate(self.keys):
            if key:
                index = bigger.start(key)
                while keys[index]:
                    index = (index + 1) & mask
                bigger.insert(index, key, self.rows[slot], self.refs[slot] if self.refs else 0)
        return bigger


class DuplicateIndex:
    """Remembers where each contact value first appeared.

    :meth:`find` looks without remembering, so a row that turns out to be a
    duplicate does not register its other (new) value; :meth:`add` records a
    row that became a contact.
    """

    def __init__(self) -> None:
        self._phones = _Table(_INITIAL_CAPACITY, with_refs=False)
        self._emails = _Table(_INITIAL_CAPACITY, with_refs=True)
        self._arena = bytearray()

    def __len__(self) -> int:
        return self._phones.size + self._emails.size

    def find(self, phone: str | None, email_key: str | None) -> tuple[int | None, int | None]:
        """(row of the same phone, row of the same email), ``None`` where unseen."""
        phone_row = email_row = None
        if phone is not None:
            slot = self._phone_slot(_phone_key(phone))
            if self._phones.keys[slot]:
                phone_row = self._phones.rows[slot]
        if email_key is not None:
            encoded = email_key.encode()
            slot = self._email_slot(_email_hash(email_key), encoded)
            if self._emails.keys[slot]:
                email_row = self._emails.rows[slot]
        return phone_row, email_row

    def add(self, row: int, phone: str | None, email_key: str | None) -> None:
        """Remember ``row`` for values not seen before (call after :meth:`find`)."""
        if phone is not None:
            key = _phone_key(phone)
            slot = self._phone_slot(key)
            if not self._phones.keys[slot]:
                self._phones.insert(slot, key, row)
                if 2 * self._phones.size > self._phones.mask:
                    self._phones = self._phones.grown()
        if email_key is not None:
            self._add_email(row, email_key)

    def _add_email(self, row: int, email_key: str) -> None:
        encoded = email_key.encode()
        key = _email_hash(email_key)
        slot = self._email_slot(key, encoded)
        if self._emails.keys[slot]:
            return
        self._emails.insert(slot, key, row, len(self._arena))
        self._arena += encoded
        self._arena.append(0x0A)  # a newline never occurs in a valid address
        if 2 * self._emails.size > self._emails.mask:
            self._emails = self._emails.grown()

    def _phone_slot(self, key: int) -> int:
        table = self._phones
        keys, mask = table.keys, table.mask
        index = table.start(key)
        while True:
            found = keys[index]
            if found == key or not found:
                return index
            index = (index + 1) & mask

    def _email_slot(self, key: int, encoded: bytes) -> int:
        table = self._emails
        keys, mask, refs = table.keys, table.mask, table.refs
        assert refs is not None
        index = table.start(key)
        while True:
            found = keys[index]
            if not found:
                return index
            if found == key and self._arena_holds(refs[index], encoded):
                return index
            index = (index + 1) & mask

    def _arena_holds(self, offset: int, encoded: bytes) -> bool:
        end = offset + len(encoded)
        return self._arena[offset:end] == encoded and self._arena[end] == 0x0A


def _phone_key(e164: str) -> int:
    return int(e164[1:])


def _email_hash(email_key: str) -> int:
    return (hash(email_key) & _POSITIVE_63_BITS) or 1
