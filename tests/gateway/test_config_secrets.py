"""``check-config`` prints no secret, whatever setting holds it: every setting of :class:`Settings` (nested
models and the items of JSON lists included) is given, one at a time, each secret-looking value its
type accepts (a URL with a password, a user or a query parameter that is a token; a bare secret), and
the secret must not appear in what the command prints."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any, get_args, get_origin

import pytest
from pydantic import BaseModel
from typer.testing import CliRunner

from gateway import cli
from gateway.config import NESTED, PREFIX, ConfigError, _model_of, load_settings
from gateway.settings import Settings

SECRET = "s3cret-Do-Not-Print"
CANDIDATES = (
    f"redis://:{SECRET}@r.example:6379/0",
    f"postgresql://gateway:{SECRET}@db.example/log",
    f"https://gateway:{SECRET}@h.example/path",
    f"https://{SECRET}@h.example/path",
    f"https://h.example/path?api_key={SECRET}",
)
"""URLs carrying a secret: any setting that takes a URL may be given one."""


def candidates(model: type[BaseModel], name: str) -> tuple[str, ...]:
    """The URLs, and a bare secret for a setting typed as one (any other string is no secret)."""
    secret_typed = "SecretStr" in str(model.model_fields[name].annotation)
    return (*CANDIDATES, SECRET) if secret_typed else CANDIDATES


def settings(model: type[BaseModel] = Settings, prefix: str = PREFIX) -> Iterator[tuple[str, type[BaseModel], str]]:
    """(variable, model, field) of every leaf setting, into nested models."""
    for name, field in model.model_fields.items():
        variable = prefix + name.upper()
        nested = _model_of(field.annotation)
        if nested is not None:
            yield from settings(nested, variable + NESTED)
        else:
            yield variable, model, name


def list_items(model: type[BaseModel] = Settings) -> Iterator[tuple[str, type[BaseModel]]]:
    """(variable, item model) of every JSON list of models."""
    for name, field in model.model_fields.items():
        if get_origin(field.annotation) is list:
            (item,) = get_args(field.annotation)
            if isinstance(item, type) and issubclass(item, BaseModel):
                yield PREFIX + name.upper(), item


def accepted(variables: dict[str, str]) -> bool:
    try:
        load_settings(variables)
    except ConfigError:
        return False
    return True


def printed(monkeypatch: pytest.MonkeyPatch, variables: dict[str, str]) -> str:
    with monkeypatch.context() as patched:
        for name, value in variables.items():
            patched.setenv(name, value)
        if not accepted(variables):
            return ""
        result = CliRunner().invoke(cli.app, ["check-config"])
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [n for n in os.environ if n.upper().startswith(PREFIX)]:
        monkeypatch.delenv(name)


def test_no_setting_prints_a_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    given: list[str] = []
    for variable, model, name in settings():
        group = variable.rpartition(NESTED)[0]
        sourced = "base_url" in model.model_fields and name != "base_url"  # a source's variables replace it whole
        base = {f"{group}{NESTED}BASE_URL": "https://h.example"} if sourced else {}
        for value in candidates(model, name):
            output = printed(monkeypatch, {**base, variable: value})
            if output:
                assert SECRET not in output, f"{variable}={value}"
                given.append(variable)
    for variable, item in list_items():
        for name in item.model_fields:
            for value in candidates(item, name):
                entry: dict[str, Any] = {"name": "one", "base_url": "https://h.example", name: value}
                output = printed(monkeypatch, {variable: json.dumps([entry])})
                if output:
                    assert SECRET not in output, f"{variable}[0].{name}={value}"
                    given.append(f"{variable}.{name}")

    assert {"PATIENTOVERBLIK_REDIS_URL", "PATIENTOVERBLIK_DATABASE_URL", "PATIENTOVERBLIK_TOKEN_ISSUER"} <= set(given)
    assert "PATIENTOVERBLIK_TRACING__OTLP_HEADERS" in given and "PATIENTOVERBLIK_CPR__OAUTH_CLIENT_SECRET" in given
    assert len(set(given)) > 50
