"""What every fuzzed response must satisfy, and a report of what did not, grouped by kind.

Rules (README "Errors", DEVELOPERS rules 5 and 6): never a 5xx; always a GraphQL-shaped JSON body;
every error carries ``extensions.code``; no ``INTERNAL_ERROR`` (an error the gateway did not expect,
masked or not); no CPR-shaped string and no person's name in an error; no source error, since every
sandbox source is up. After the run, the access
log must drain to Min Log: nothing stays pending, nothing is set aside, nothing is missing there.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, assert_never

CPR_SHAPED = re.compile(r"(?<![0-9])[0-9]{6}-?[0-9]{4}(?![0-9])")
"""A CPR number as it could appear in text: ten digits, or six and four with a hyphen."""
SOURCE_FAILURES = frozenset({"SOURCE_UNAVAILABLE", "SOURCE_INVALID_RESPONSE"})
"""Codes that say a source failed, which no sandbox source does during the run (``SOURCE_TIMEOUT`` is
left out: a loaded machine can make a healthy source slow)."""


class Kind(StrEnum):
    """The kinds of failure the fuzzer reports."""

    SERVER_ERROR = "HTTP 5xx"
    NOT_GRAPHQL = "body is not a GraphQL response"
    NO_CODE = "error without extensions.code"
    INTERNAL_ERROR = "INTERNAL_ERROR"
    PERSONAL_DATA = "personal data in an error"
    SOURCE_ERROR = "a source error while every source is up"
    EXPORT_FAILED = "Min Log export raised"
    EXPORT_STUCK = "records still pending after export"
    DEAD_LETTERED = "records set aside by the export"
    NOT_IN_MINLOG = "records missing in Min Log"


def rule_of(kind: Kind) -> str:
    """The rule a kind of failure breaks, as the report states it."""
    match kind:
        case Kind.SERVER_ERROR:
            return "bad input gets a coded error, never HTTP 500 (rule 6)"
        case Kind.NOT_GRAPHQL | Kind.NO_CODE:
            return "every error carries extensions.code (README, Errors)"
        case Kind.INTERNAL_ERROR:
            return "no unexpected error for any generated operation (rule 6)"
        case Kind.PERSONAL_DATA:
            return "no CPR numbers or names in error messages (rule 5)"
        case Kind.SOURCE_ERROR:
            return "SOURCE_UNAVAILABLE only when the source failed (issue 9, part 6)"
        case Kind.EXPORT_FAILED | Kind.EXPORT_STUCK | Kind.DEAD_LETTERED | Kind.NOT_IN_MINLOG:
            return "the Min Log export keeps flowing and loses nothing (issue 9, part 1)"
        case _:
            assert_never(kind)


@dataclass(frozen=True)
class Violation:
    """One broken rule: its kind, what identifies its family (``where``), and what was seen."""

    kind: Kind
    where: str
    seen: str


def _path(error: dict[str, Any]) -> str:
    """The error's path without list indices (``patient.appointments``), or ``-``."""
    path = error.get("path")
    if not isinstance(path, list):
        return "-"
    return ".".join(str(step) for step in path if not isinstance(step, int)) or "-"


def graphql_body(text: str) -> dict[str, Any] | None:
    """The response body when it is a GraphQL response (an object with ``data`` or ``errors``)."""
    try:
        body = json.loads(text)
    except ValueError:
        return None
    return body if isinstance(body, dict) and {"data", "errors"} & body.keys() else None


def errors_of(body: dict[str, Any]) -> list[Any]:
    errors = body.get("errors") or []
    return errors if isinstance(errors, list) else [errors]


def check_response(status: int, text: str, names: Iterable[str]) -> list[Violation]:
    """Every rule one response breaks (``names``: persons' names that must not appear in errors)."""
    found: list[Violation] = []
    if status >= 500:
        found.append(Violation(Kind.SERVER_ERROR, f"status {status}", text[:200]))
    body = graphql_body(text)
    if body is None:
        found.append(Violation(Kind.NOT_GRAPHQL, f"status {status}", text[:200]))
        return found
    for error in errors_of(body):
        found.extend(_check_error(error, names))
    return found


def _check_error(error: Any, names: Iterable[str]) -> Iterator[Violation]:
    if not isinstance(error, dict):
        yield Violation(Kind.NO_CODE, "-", repr(error)[:200])
        return
    where = _path(error)
    extensions = error.get("extensions")
    if not isinstance(extensions, dict):
        extensions = {}
    code = extensions.get("code")
    message = str(error.get("message", ""))
    if not isinstance(code, str) or not code:
        yield Violation(Kind.NO_CODE, where, message[:200])
    elif code == "INTERNAL_ERROR":
        yield Violation(Kind.INTERNAL_ERROR, where, message[:200])
    elif code in SOURCE_FAILURES:
        yield Violation(Kind.SOURCE_ERROR, f"{code} from {extensions.get('source')}", f"at {where}: {message[:200]}")
    shown = message + " " + json.dumps(extensions, ensure_ascii=False)
    if (match := CPR_SHAPED.search(shown)) is not None:
        yield Violation(Kind.PERSONAL_DATA, f"{code} at {where}: CPR-shaped", _around(shown, match.start()))
    for name in names:
        if (at := shown.find(name)) >= 0:
            yield Violation(Kind.PERSONAL_DATA, f"{code} at {where}: a name", _around(shown, at))


def _around(text: str, at: int) -> str:
    return text[max(0, at - 80) : at + 80]


@dataclass
class Finding:
    """A family of violations: how often it was seen and its shortest reproduction."""

    violation: Violation
    count: int = 0
    operation: str = ""


@dataclass
class Findings:
    """Violations of one fuzz run, grouped by ``(kind, where)``; the shortest operation kept per group."""

    caller: str
    groups: dict[tuple[Kind, str], Finding] = field(default_factory=dict)
    answers: Counter[str] = field(default_factory=Counter)
    """How many responses had each HTTP status and error code (``200 data``: one without errors)."""

    def answered(self, status: int, text: str) -> None:
        """Count one response by status and error codes."""
        body = graphql_body(text) or {}
        codes = {str((e.get("extensions") or {}).get("code")) for e in errors_of(body) if isinstance(e, dict)}
        self.answers[f"{status} {' '.join(sorted(codes)) or 'data'}"] += 1

    def add(self, violations: Iterable[Violation], operation: str) -> None:
        for violation in violations:
            finding = self.groups.setdefault((violation.kind, violation.where), Finding(violation, 0, operation))
            finding.count += 1
            if len(operation) < len(finding.operation):
                finding.violation, finding.operation = violation, operation

    def report(self) -> str:
        """Every family with its rule, count, what was seen and the shortest operation that showed it."""
        requests = sum(self.answers.values())
        lines = [f"{len(self.groups)} kind(s) of failure for caller {self.caller} in {requests} requests:"]
        for (kind, where), finding in sorted(self.groups.items()):
            lines.append(f"- {kind} [{where}] x{finding.count}: {rule_of(kind)}")
            lines.append(f"    seen: {finding.violation.seen}")
            if finding.operation:
                lines.append("    operation: " + " ".join(finding.operation.split()))
        lines.append("answers: " + ", ".join(f"{answer} x{n}" for answer, n in self.answers.most_common()))
        return "\n".join(lines)
