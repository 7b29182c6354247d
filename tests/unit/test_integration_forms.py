"""Integration forms built from the provider settings models, and what a submitted form means."""

from __future__ import annotations

import pytest

from herald.channels.registry import default_registry
from herald.domain.channels import IntegrationKind
from herald.services.integration_forms import setting_fields, settings_from_form

REGISTRY = default_registry()


@pytest.mark.parametrize("kind", list(IntegrationKind))
def test_every_setting_has_one_input_and_secrets_are_password_inputs(
    kind: IntegrationKind,
) -> None:
    spec = REGISTRY.get(kind)
    fields = setting_fields(REGISTRY, kind)
    assert sorted(f.name for f in fields) == sorted(spec.settings_model.model_fields)
    for field in fields:
        assert (field.input_type == "password") == (field.name in spec.secret_fields())
    required = [f.is_required for f in fields]
    assert required == sorted(required, reverse=True)  # required settings come first


def test_inputs_follow_the_setting_types() -> None:
    email = {f.name: f for f in setting_fields(REGISTRY, IntegrationKind.EMAIL_SMTP)}
    assert email["port"].input_type == "number" and email["port"].step == "1"
    assert email["port"].default == "587" and "Default: 587." in email["port"].hint
    assert email["security"].input_type == "select"
    assert email["security"].choices == ("starttls", "tls", "none")
    assert email["reply_plus_addressing"].input_type == "checkbox"
    assert email["tls_ca_pem"].input_type == "textarea"
    assert email["password"].is_secret and not email["password"].is_required
    assert email["from_address"].label == "From address"
    infobip = {f.name: f for f in setting_fields(REGISTRY, IntegrationKind.INFOBIP_SMS)}
    assert infobip["base_url"].label == "Base URL"
    assert infobip["api_key"].hint.endswith("Stored encrypted; never shown again.")


def test_a_new_form_leaves_empty_inputs_to_the_defaults() -> None:
    form = {"host": " smtp.example.com ", "port": "", "password": "", "from_address": "a@b.c"}
    values = settings_from_form(REGISTRY, IntegrationKind.EMAIL_SMTP, form, is_edit=False)
    assert values["host"] == "smtp.example.com"
    assert "port" not in values and "password" not in values
    assert values["reply_plus_addressing"] is False  # an unticked checkbox


def test_an_edit_keeps_empty_secrets_and_resets_emptied_settings() -> None:
    form = {
        "host": "",
        "port": "",
        "password": "",
        "from_address": "a@b.c",
        "reply_plus_addressing": "true",
    }
    values = settings_from_form(REGISTRY, IntegrationKind.EMAIL_SMTP, form, is_edit=True)
    assert "password" not in values  # the stored secret stays
    assert values["host"] == ""  # required: the service refuses it, naming the field
    assert values["port"] == "587"  # back to the default
    assert values["reply_plus_addressing"] is True
