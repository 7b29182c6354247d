from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from herald.domain.templates import (
    EmptyVariable,
    TemplateSyntaxError,
    Variable,
    available_variables,
    parse_template,
)

VALUES = {"name": "Alex", "appointment_date": "2024-09-12", "blank": "   "}


@pytest.mark.parametrize(
    ("source", "rendered"),
    [
        ("Hi {{name}}!", "Hi Alex!"),
        ("Hi {{ name }}!", "Hi Alex!"),
        ("Hi {{ name | there }}!", "Hi Alex!"),
        ("Hi {{missing|there}}!", "Hi there!"),
        ("Hi {{ missing | my friend }}!", "Hi my friend!"),
        ("Hi {{blank|there}}!", "Hi there!"),
        ("Hi {{missing|}}!", "Hi !"),
        ("Hi {{missing}}!", "Hi !"),
        ("{{name}} {{name}}", "Alex Alex"),
        ("On {{appointment_date}}", "On 2024-09-12"),
        ("No variables at all", "No variables at all"),
        ("", ""),
        ("a | b } { c", "a | b } { c"),
        ("{{ missing | a | b }}", "a | b"),
    ],
)
def test_render(source: str, rendered: str) -> None:
    assert parse_template(source).render(VALUES).text == rendered


def test_parts_keep_order_offsets_and_defaults() -> None:
    template = parse_template("Hi {{ name | there }}, see you {{date}}.")
    assert template.parts == (
        "Hi ",
        Variable("name", "there", 3),
        ", see you ",
        Variable("date", None, 31),
        ".",
    )
    assert template.variable_names == {"name", "date"}
    assert template.literal_text == "Hi , see you ."


def test_rendering_reports_empty_variables_once_with_their_default() -> None:
    rendering = parse_template("{{a|x}} {{b}} {{a|x}} {{name}} {{blank}}").render(VALUES)
    assert rendering.empty == (
        EmptyVariable("a", "x"),
        EmptyVariable("b", None),
        EmptyVariable("blank", None),
    )


@pytest.mark.parametrize(
    ("source", "fragment"),
    [
        ("Hi {{name", "'{{' is never closed with '}}' at line 1, column 4"),
        ("Hi name}}", "'}}' without a matching '{{' at line 1, column 8"),
        ("ok\n  {{ }}", "needs a column name, e.g. {{name}} at line 2, column 3"),
        ("{{ | there }}", "needs a column name"),
        ("{{ first name }}", "'first name' is not a column name"),
        ("{{1st}}", "'1st' is not a column name"),
        ("{{{name}}}", "'{name' is not a column name"),
        ("{{a {{b}} }}", "'{{' inside a variable at line 1, column 5"),
        ("{{name}} and }}", "'}}' without a matching '{{' at line 1, column 14"),
        ("line one\nline two {{x", "line 2, column 10"),
    ],
)
def test_malformed_braces_name_their_position(source: str, fragment: str) -> None:
    with pytest.raises(TemplateSyntaxError) as caught:
        parse_template(source, field="journey.primary.content.text")
    assert fragment in caught.value.message
    assert caught.value.field == "journey.primary.content.text"
    assert caught.value.code == "template_syntax"


@pytest.mark.parametrize(
    "name", ["name", "_private", "appointment_date", "first.name", "first-name", "prénom", "a1"]
)
def test_accepted_variable_names(name: str) -> None:
    assert parse_template("{{" + name + "}}").variable_names == {name}


def test_html_mode_escapes_values_and_defaults_but_not_the_markup() -> None:
    template = parse_template('<p title="{{name}}">Hi {{name}} {{missing|<b>&you</b>}}</p>')
    values = {"name": '"><script>alert(1)</script>'}
    text = template.render(values, escape_html=True).text
    assert text == (
        '<p title="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;">'
        "Hi &quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt; &lt;b&gt;&amp;you&lt;/b&gt;</p>"
    )
    assert "<script>" in template.render(values).text


@pytest.mark.parametrize(
    "source",
    [
        "{{__class__}}",
        "{{name.__class__}}",
        "{{__import__}}",
        "{{self}}",
    ],
)
def test_python_looking_variables_are_plain_lookups(source: str) -> None:
    rendering = parse_template(source).render(VALUES)
    assert rendering.text == ""
    assert len(rendering.empty) == 1


@pytest.mark.parametrize(
    "source",
    [
        "{% for x in range(10) %}loop{% endfor %}",
        "{# comment #}",
        "${name} %(name)s {name} {0}",
        "<script>alert('x')</script>",
    ],
)
def test_other_template_syntaxes_are_inert_text(source: str) -> None:
    assert parse_template(source).render(VALUES).text == source


def test_substituted_values_are_never_re_expanded() -> None:
    rendering = parse_template("{{name}}").render({"name": "{{secret}} {% x %}"})
    assert rendering.text == "{{secret}} {% x %}"


def test_expression_syntax_is_refused_not_evaluated() -> None:
    with pytest.raises(TemplateSyntaxError):
        parse_template("{{ 7 * 7 }}")
    with pytest.raises(TemplateSyntaxError):
        parse_template("{{ name() }}")


def test_available_variables_add_phone_and_email() -> None:
    assert available_variables(["name"]) == {"name", "phone", "email"}


_brace_free = st.text(alphabet=st.characters(exclude_characters="{}"), max_size=30)
_names = st.from_regex(r"[a-z_][a-z0-9_]{0,10}", fullmatch=True)


@given(st.lists(st.tuples(_brace_free, _names), max_size=5), _brace_free)
def test_rendering_substitutes_every_variable(pieces: list[tuple[str, str]], tail: str) -> None:
    source = "".join(f"{text}{{{{ {name} }}}}" for text, name in pieces) + tail
    values = {name: f"<{name}>" for _, name in pieces}
    expected = "".join(f"{text}<{name}>" for text, name in pieces) + tail
    rendering = parse_template(source).render(values)
    assert rendering.text == expected
    assert rendering.empty == ()


@given(st.text(max_size=60))
def test_any_text_parses_or_fails_with_a_position(source: str) -> None:
    try:
        template = parse_template(source)
    except TemplateSyntaxError as error:
        assert error.line >= 1
        assert error.column >= 1
    else:
        defaults = (
            part if isinstance(part, str) else part.default or "" for part in template.parts
        )
        assert template.render({}).text == "".join(defaults)
        assert {item.name for item in template.render({}).empty} == template.variable_names
