"""The writer's JSON for custom values is exactly json.dumps'."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from herald.services.audience_preparation import FlatJson


@given(st.dictionaries(st.text(), st.text()))
def test_flat_json_is_the_same_text_as_json_dumps(values: dict[str, str]) -> None:
    encoded = FlatJson(list(values)).encode(values)
    assert encoded == json.dumps(values, ensure_ascii=False, separators=(",", ":"))
    assert json.loads(encoded) == values
