"""Every log line of the end-to-end suite, as the gateway writes it, scanned for personal data (issue 13).

:class:`CapturedLog` is a handler on the root logger for the whole session (``tests/e2e/conftest.py``):
each record goes through the gateway's own filter and JSON formatter (:mod:`gateway.logging`), on a copy
so other handlers (pytest's) see the record unchanged. At the end of the session every line is
searched for CPR-shaped strings (ten digits, with or without a dash after six; the request id, made by
the gateway or checked by it, is left out) and for the names of everyone in the sandbox's population,
its professionals and assistants, and the sandbox's client secret; a hit fails the session.
"""

from __future__ import annotations

import json
import logging
import re

from gateway.logging import JsonLineFormatter, PersonalDataFilter
from sandbox.population import Population
from sandbox.upstream_tokens import CLIENTS

CPR = re.compile(r"(?<![0-9])[0-9]{6}-?[0-9]{4}(?![0-9])")


class CapturedLog(logging.Handler):
    """Keeps every record as the gateway's handler would write it (one JSON line each)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self._filter = PersonalDataFilter()
        self._format = JsonLineFormatter()

    def emit(self, record: logging.LogRecord) -> None:
        copy = logging.makeLogRecord(vars(record))
        self._filter.filter(copy)
        self.lines.append(self._format.format(copy))


def forbidden_words(population: Population) -> set[str]:
    """Names (as written in full, and first name with surname) of every person the sandbox knows, and secrets."""
    names: set[str] = set(CLIENTS.values())
    for person in population.persons.values():
        names.add(f"{person.given_name} {person.family_name}")
        names.add(f"{person.given_name.split()[0]} {person.family_name}")
    for professional in population.professionals.values():
        names.add(professional.name)
        names |= set(professional.assistants.values())
    for card in population.master_cards.values():
        names |= {f"{r.first_name} {r.surname}" for r in card.relatives if r.surname}
    return names


def personal_data_in(lines: list[str], words: set[str]) -> list[str]:
    """The lines holding a CPR-shaped string (outside ``request_id``) or one of ``words``."""
    hits = []
    for line in lines:
        try:
            document = json.loads(line)
            document.pop("request_id", None)
            text = json.dumps(document, ensure_ascii=False)
        except ValueError:
            text = line
        if CPR.search(text) or any(word in text for word in words):
            hits.append(line)
    return hits
