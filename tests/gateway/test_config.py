"""Settings fail fast: an unknown ``PATIENTOVERBLIK_*`` variable, a source with only some of its variables,
a bad URL, JSON that is not JSON or a TLS file that is not there stops every command that starts the
gateway with one line per problem naming the variable (never its value) and exit status 2, not a
traceback. ``check-config`` prints every setting with its secrets masked."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gateway import cli, serving
from gateway.config import ConfigError, load_settings, unknown_variables

SECRET = "do-not-print-me"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [n for n in os.environ if n.upper().startswith("PATIENTOVERBLIK_")]:
        monkeypatch.delenv(name)


@pytest.mark.parametrize(
    ("variables", "problem"),
    [
        pytest.param(
            {"PATIENTOVERBLIK_PROT": "9000"},
            "PATIENTOVERBLIK_PROT: not a setting (did you mean PATIENTOVERBLIK_PORT?)",
            id="unknown",
        ),
        pytest.param(
            {"PATIENTOVERBLIK_CPR__TIMEOUT": "1.5", "PATIENTOVERBLIK_CPR__BASE_URL": "https://cpr.example"},
            "PATIENTOVERBLIK_CPR__TIMEOUT: not a setting (did you mean PATIENTOVERBLIK_CPR__TIMEOUT_S?)",
            id="unknown_nested",
        ),
        pytest.param(
            {"PATIENTOVERBLIK_CPR__TIMEOUT_S": "1.5"},
            "PATIENTOVERBLIK_CPR__BASE_URL is required: the other PATIENTOVERBLIK_CPR__* variables replace the "
            "defaults as a whole",
            id="only_a_timeout",
        ),
        pytest.param(
            {"PATIENTOVERBLIK_CPR__BASE_URL": "cpr.example:443"},
            "PATIENTOVERBLIK_CPR__BASE_URL: not an http(s) URL with a host, e.g. https://cpr.example.dk",
            id="no_scheme",
        ),
        pytest.param(
            {"PATIENTOVERBLIK_MINLOG__BASE_URL": f"https://gateway:{SECRET}@minlog.example"},
            "PATIENTOVERBLIK_MINLOG__BASE_URL: a URL must not hold a user or password: use the TOKEN or OAUTH_* "
            "settings",
            id="password_in_url",
        ),
        pytest.param(
            {"PATIENTOVERBLIK_PORT": "eighty"},
            "PATIENTOVERBLIK_PORT: Input should be a valid integer, unable to parse string as an integer",
            id="not_a_number",
        ),
        pytest.param(
            {"PATIENTOVERBLIK_APPOINTMENT_ENDPOINTS": '[{"name": "gp", "base_url": "https://gp.dk", "tmeout_s": 1}]'},
            "PATIENTOVERBLIK_APPOINTMENT_ENDPOINTS (item 0: tmeout_s): not a setting",
            id="unknown_in_json",
        ),
        pytest.param(
            {"PATIENTOVERBLIK_PLAN_ENDPOINTS": '[{"name": "gp",'},
            "PATIENTOVERBLIK_PLAN_ENDPOINTS: not valid JSON",
            id="not_json",
        ),
        pytest.param(
            {"PATIENTOVERBLIK_DATABASE_URL": f"mysql://gateway:{SECRET}@db/log"},
            "PATIENTOVERBLIK_DATABASE_URL: unsupported access log URL scheme 'mysql': expected sqlite:///path.db or "
            "postgresql://host/database",
            id="database",
        ),
        pytest.param(
            {"PATIENTOVERBLIK_CPR__BASE_URL": "https://cpr.example", "PATIENTOVERBLIK_CPR__TLS_CLIENT_CERT": "/no.pem"},
            "PATIENTOVERBLIK_CPR__TLS_CLIENT_CERT: Path does not point to a file",
            id="tls_file",
        ),
        pytest.param(
            {
                "PATIENTOVERBLIK_CPR__BASE_URL": "https://cpr.example",
                "PATIENTOVERBLIK_CPR__OAUTH_TOKEN_URL": "https://sts.example/token",
                "PATIENTOVERBLIK_CPR__OAUTH_CLIENT_ID": "gateway",
            },
            "PATIENTOVERBLIK_CPR: OAUTH_CLIENT_SECRET is required for client_secret_basic and client_secret_post",
            id="oauth_without_secret",
        ),
        pytest.param(
            {"PATIENTOVERBLIK_FEDERATION__KEY_SECRET": SECRET},
            "PATIENTOVERBLIK_FEDERATION__KEY_SECRET: a key secret is base64 (standard or URL-safe)",
            id="key_secret_not_base64",
        ),
        pytest.param(
            {"PATIENTOVERBLIK_FEDERATION__PREVIOUS_KEY_SECRETS": '["ZG8tbm90LXByaW50LW1l"]'},
            "PATIENTOVERBLIK_FEDERATION__PREVIOUS_KEY_SECRETS (item 0): a key secret is 64 random bytes in base64",
            id="previous_key_secret_too_short",
        ),
        pytest.param(
            {"PATIENTOVERBLIK_TRACING__EXPORTER": "zipkin"},
            "PATIENTOVERBLIK_TRACING__EXPORTER: Input should be 'none', 'otlp' or 'console'",
            id="enum",
        ),
    ],
)
def test_an_unusable_setting_is_one_line_naming_its_variable(
    monkeypatch: pytest.MonkeyPatch, variables: dict[str, str], problem: str
) -> None:
    for name, value in variables.items():
        monkeypatch.setenv(name, value)

    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert caught.value.problems == [problem]

    result = CliRunner().invoke(cli.app, ["serve"])
    assert result.exit_code == 2
    assert result.output == f"patientoverblik: configuration error: {problem}\n"
    assert SECRET not in result.output


def test_the_test_suites_own_variables_are_no_problem() -> None:
    environ = {"PATIENTOVERBLIK_TEST_POSTGRES_URL": "postgresql://x/test", "PATIENTOVERBLIK_FUZZ_SEED": "3"}

    assert unknown_variables(environ) == []


def test_a_certificate_that_does_not_load_is_named(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "cert.pem").write_text("not a certificate")
    monkeypatch.setenv("PATIENTOVERBLIK_CPR__BASE_URL", "https://cpr.example")
    monkeypatch.setenv("PATIENTOVERBLIK_CPR__TLS_CLIENT_CERT", str(tmp_path / "cert.pem"))

    with pytest.raises(ConfigError) as caught:
        load_settings()

    assert caught.value.problems == [
        "PATIENTOVERBLIK_CPR: the TLS CA bundle, certificate or key could not be loaded (SSLError)"
    ]


def test_check_config_prints_every_setting_with_secrets_masked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATIENTOVERBLIK_DATABASE_URL", f"postgresql://gateway:{SECRET}@db.example/log")
    monkeypatch.setenv("PATIENTOVERBLIK_CPR__BASE_URL", "https://cpr.example")
    monkeypatch.setenv("PATIENTOVERBLIK_CPR__OAUTH_TOKEN_URL", "https://sts.example/token")
    monkeypatch.setenv("PATIENTOVERBLIK_CPR__OAUTH_CLIENT_ID", "gateway")
    monkeypatch.setenv("PATIENTOVERBLIK_CPR__OAUTH_CLIENT_SECRET", SECRET)
    monkeypatch.setenv("PATIENTOVERBLIK_STAMKORT__BASE_URL", "https://stamkort.example")
    monkeypatch.setenv("PATIENTOVERBLIK_STAMKORT__TOKEN", SECRET)
    monkeypatch.setenv("PATIENTOVERBLIK_TRACING__OTLP_HEADERS", f"api-key={SECRET}")
    endpoint = f'[{{"name": "gp", "base_url": "https://gp.example", "token": "{SECRET}"}}]'
    monkeypatch.setenv("PATIENTOVERBLIK_APPOINTMENT_ENDPOINTS", endpoint)
    key_secret = base64.b64encode(SECRET.encode().ljust(64, b"!")).decode()
    monkeypatch.setenv("PATIENTOVERBLIK_FEDERATION__KEY_SECRET", key_secret)

    result = CliRunner().invoke(cli.app, ["check-config"])

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert SECRET not in result.output
    assert "PATIENTOVERBLIK_DATABASE_URL=postgresql://gateway:***@db.example/log" in lines
    assert "PATIENTOVERBLIK_CPR__OAUTH_CLIENT_SECRET=***" in lines
    assert "PATIENTOVERBLIK_CPR__OAUTH_CLIENT_ID=gateway" in lines
    assert "PATIENTOVERBLIK_STAMKORT__TOKEN=***" in lines
    assert "PATIENTOVERBLIK_TRACING__OTLP_HEADERS=***" in lines
    assert "PATIENTOVERBLIK_FEDERATION__KEY_SECRET=***" in lines and key_secret not in result.output
    assert '"token":"***"' in next(line for line in lines if line.startswith("PATIENTOVERBLIK_APPOINTMENT_ENDPOINTS"))
    assert 'PATIENTOVERBLIK_METRICS__ALLOW=["127.0.0.0/8","::1/128"]' in lines
    assert result.stderr == "configuration OK\n"


def test_every_setting_check_config_prints_is_one_the_gateway_reads() -> None:
    result = CliRunner().invoke(cli.app, ["check-config"])
    printed = {line.partition("=")[0].partition("[")[0] for line in result.stdout.splitlines()}

    assert len(printed) > 100
    assert unknown_variables(dict.fromkeys(printed, "")) == []


@pytest.mark.parametrize("workers", [1, 3])
def test_workers_without_a_key_secret_share_one_drawn_at_start(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, workers: int
) -> None:
    """Each worker builds its app from the environment: without a key secret set, ``serve --workers N`` draws
    one for all of them, so a key one worker made opens in every other (ADR 0022)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(serving, "serve", lambda *args, **kwargs: None)
    monkeypatch.setenv("PATIENTOVERBLIK_FEDERATION__KEY_SECRET", "")  # undone after the test, whoever sets it
    monkeypatch.delenv("PATIENTOVERBLIK_FEDERATION__KEY_SECRET")

    cli._serve_gateway(load_settings(), "127.0.0.1", 0, workers)

    drawn = os.environ.get("PATIENTOVERBLIK_FEDERATION__KEY_SECRET")
    if workers == 1:
        assert drawn is None
        return
    one, other = (load_settings().federation.patient_keys() for _ in range(2))
    assert drawn is not None and other.cpr_of(one.key_of("1403723705")) == "1403723705"
