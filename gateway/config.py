"""Reading the settings at start, failing fast with one line per problem; printing them with secrets masked.

:func:`load_settings` is what every command that starts the gateway (``serve``, ``demo``, the
access-log commands, ``check-config``) and ``create_app()`` without settings use. It refuses:

- a ``PATIENTOVERBLIK_*`` variable that is no setting (a typo such as ``PATIENTOVERBLIK_CPR__TIMEOUT``
  or ``PATIENTOVERBLIK_PROT``), naming the closest setting;
- any value the settings refuse: a number that is not one, a URL without a scheme or with a query,
  a missing ``BASE_URL`` of a source whose other variables are set (they replace the source's
  defaults as a whole), a TLS file that does not exist or does not load, a JSON value that is not JSON.

Each problem is one line naming the variable (``PATIENTOVERBLIK_CPR__BASE_URL: Field required``),
never the value (it could be a secret): :class:`ConfigError` carries them, and the commands print
them and exit with status 2 instead of a traceback.

:func:`effective_settings` lists every setting as ``PATIENTOVERBLIK_NAME=value`` (``check-config``),
with tokens, client secrets, key passwords and OTLP headers masked, and the credentials of every URL
(:func:`masked_url`: Redis, database, OTLP, sources, whatever the setting).
"""

from __future__ import annotations

import difflib
import json
import os
import re
import types
from collections.abc import Iterator, Mapping
from typing import Any, Union, get_args, get_origin
from urllib.parse import urlsplit, urlunsplit

import typer
from pydantic import BaseModel, SecretStr, ValidationError
from pydantic_settings import SettingsError

from gateway.settings import Settings

PREFIX = "PATIENTOVERBLIK_"
TEST_SUITE_PREFIXES = ("PATIENTOVERBLIK_TEST_", "PATIENTOVERBLIK_FUZZ_")
"""Variables the test suite reads (its PostgreSQL URL, the fuzzer's budget): not settings, never refused."""
NESTED = "__"
MASK = "***"
_SETTINGS_ERROR_FIELD = re.compile(r'field "(\w+)"')
_URL_USER_INFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<info>.*)@", re.DOTALL)
_URL_DELIMITERS = re.compile(r"[/?#]")


CONFIG_ERROR_STATUS = 2
"""The exit status of a process whose settings are unusable, however it was started."""


def settings_or_exit(**overrides: Any) -> Settings:
    """:func:`load_settings`, or each problem on stderr (``patientoverblik: configuration error: …``) and exit 2."""
    try:
        return load_settings(**overrides)
    except ConfigError as exc:
        print_problems(exc)
        raise typer.Exit(CONFIG_ERROR_STATUS) from None


def print_problems(error: ConfigError) -> None:
    """Each problem of ``error`` as one line on stderr: ``patientoverblik: configuration error: …``."""
    for problem in error.problems:
        typer.echo(f"patientoverblik: configuration error: {problem}", err=True)


class ConfigError(Exception):
    """The settings cannot be used; ``problems`` holds one line per problem, each naming its variable."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def load_settings(environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    """The settings from the environment (and ``overrides`` by field name); :class:`ConfigError` if unusable.

    ``environ`` is checked for unknown variables (default ``os.environ``, which pydantic-settings reads).
    """
    problems = unknown_variables(os.environ if environ is None else environ)
    unknown = {problem.partition(":")[0] for problem in problems}
    settings: Settings | None = None
    try:
        settings = Settings(**overrides)
    except ValidationError as exc:
        for error in exc.errors():
            if error["type"] != "extra_forbidden" or variable_name(error["loc"]) not in unknown:
                problems.append(_problem(error["loc"], error["msg"], error["type"]))
    except SettingsError as exc:  # a complex value that is not JSON: pydantic-settings names the field only
        found = _SETTINGS_ERROR_FIELD.search(str(exc))
        problems.append(f"{variable_name((found.group(1),) if found else ())}: not valid JSON")
    if problems or settings is None:
        raise ConfigError(list(dict.fromkeys(problems)))
    return settings


def unknown_variables(environ: Mapping[str, str]) -> list[str]:
    """One line for every ``PATIENTOVERBLIK_*`` name in ``environ`` that is no setting (names are case-insensitive)."""
    known = set(setting_names())
    problems = []
    for name in sorted(environ):
        upper = name.upper()
        if not upper.startswith(PREFIX) or upper.startswith(TEST_SUITE_PREFIXES):
            continue
        if _is_setting(upper.removeprefix(PREFIX).lower().split(NESTED), Settings):
            continue
        close = difflib.get_close_matches(upper, known, n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        problems.append(f"{upper}: not a setting{hint}")
    return problems


def setting_names(model: type[BaseModel] = Settings, prefix: str = PREFIX) -> Iterator[str]:
    """Every variable name a setting can be given by, nested models included."""
    for name, field in model.model_fields.items():
        variable = prefix + name.upper()
        yield variable
        nested = _model_of(field.annotation)
        if nested is not None:
            yield from setting_names(nested, variable + NESTED)


def variable_name(loc: tuple[int | str, ...]) -> str:
    """The variable a validation error's location names: ``("cpr", "base_url")`` → ``PATIENTOVERBLIK_CPR__BASE_URL``.

    A location inside a JSON value (a list item, a dictionary key) names the variable and the place in
    it: ``PATIENTOVERBLIK_APPOINTMENT_ENDPOINTS (item 2: base_url)``.
    """
    names: list[str] = []
    model: type[BaseModel] | None = Settings
    rest: list[str] = []
    for part in loc:
        field = model.model_fields.get(part) if model is not None and isinstance(part, str) else None
        if field is None and model is not None and names and isinstance(part, str):
            names.append(part.upper())  # a name the model does not have (an unknown nested variable)
            model = None
        elif field is None or rest or model is None:
            rest.append(f"item {part}" if isinstance(part, int) else str(part))
            model = None
        else:
            names.append(str(part).upper())
            model = _model_of(field.annotation)
    variable = PREFIX + NESTED.join(names) if names else ""
    return variable + (f" ({': '.join(rest)})" if rest else "")


def effective_settings(settings: Settings) -> list[str]:
    """``PATIENTOVERBLIK_NAME=value`` for every setting, in field order, secrets masked (see the module)."""
    return list(_lines(settings, PREFIX))


def _lines(model: BaseModel, prefix: str) -> Iterator[str]:
    for name in type(model).model_fields:
        value = getattr(model, name)
        variable = prefix + name.upper()
        if isinstance(value, BaseModel):
            yield from _lines(value, variable + NESTED)
        elif isinstance(value, list) and value and all(isinstance(item, BaseModel) for item in value):
            for index, item in enumerate(value):  # one line per endpoint, each a JSON object
                yield f"{variable}[{index}]={_shown(name, item)}"
        else:
            yield f"{variable}={_shown(name, value)}"


def _shown(name: str, value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, SecretStr):
        return MASK
    if isinstance(value, str):
        return masked_url(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return json.dumps(_plain(value), ensure_ascii=False, separators=(",", ":"))


def _plain(value: Any) -> Any:
    """``value`` as JSON data, secrets masked."""
    if isinstance(value, BaseModel):  # unset members (null) left out
        members = {name: getattr(value, name) for name in type(value).model_fields}
        return {name: _plain(member) for name, member in members.items() if member is not None}
    if isinstance(value, SecretStr):
        return MASK
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, bool | int | float):
        return value
    return masked_url(str(value))


def masked_url(text: str) -> str:
    """``text`` with the credentials a URL in it can carry masked: the one rule for every printed setting.

    Applied to every string value (a URL setting of any name, a URL inside a JSON setting), so a URL
    setting added later needs no marking: the password of the user information
    (``redis://:***@host:6379/0``, ``postgresql://gateway:***@db/log``), or the user alone when it has no
    password (a token given as the user, ``https://***@host``), and the value of every query parameter
    (``?api_key=***``). Other text is returned as it is.
    """
    found = _URL_USER_INFO.match(text)
    if found is not None:  # up to the last "@": a password with an unencoded "/", "?" or "#" is masked too
        scheme, info = found.group("scheme", "info")
        user, has_password, _ = info.partition(":")
        shown = f"{user}:{MASK}" if has_password and not _URL_DELIMITERS.search(user) else MASK
        text = f"{scheme}{shown}@{text[found.end() :]}"
    try:
        parts = urlsplit(text)
    except ValueError:
        return text
    if not parts.scheme or not parts.query:
        return text
    query = "&".join(f"{pair.partition('=')[0]}={MASK}" for pair in parts.query.split("&") if pair)
    return urlunsplit(parts._replace(query=query))


def _problem(loc: tuple[int | str, ...], message: str, kind: str) -> str:
    variable = variable_name(loc)
    if kind == "missing" and len(loc) == 2 and isinstance(loc[0], str) and _model_of_field(loc[0]) is not None:
        group = PREFIX + str(loc[0]).upper() + NESTED
        return f"{variable} is required: the other {group}* variables replace the defaults as a whole"
    message = "not a setting" if kind == "extra_forbidden" else message.removeprefix("Value error, ")
    return f"{variable}: {message}" if variable else message


def _is_setting(parts: list[str], model: type[BaseModel]) -> bool:
    field = model.model_fields.get(parts[0])
    if field is None:
        return False
    if len(parts) == 1:
        return True
    nested = _model_of(field.annotation)
    if nested is not None:
        return _is_setting(parts[1:], nested)
    return get_origin(field.annotation) is dict  # a dictionary's keys may be given one by one


def _model_of_field(name: str) -> type[BaseModel] | None:
    field = Settings.model_fields.get(name)
    return _model_of(field.annotation) if field is not None else None


def _model_of(annotation: Any) -> type[BaseModel] | None:
    """The model a field holds (``X`` or ``X | None``), or ``None`` for a scalar, a list or a dictionary."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if get_origin(annotation) in (Union, types.UnionType):
        models = [a for a in get_args(annotation) if isinstance(a, type) and issubclass(a, BaseModel)]
        return models[0] if len(models) == 1 else None
    return None
