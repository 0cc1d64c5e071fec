"""Whom a citizen may act for: ``me.actsFor``, read from the holder's side before execution.

The access decision looks from a patient to the caller (:func:`auth.policy.representation_grants`).
A page offering a picker needs the other direction: from the holder to the persons they represent.
:func:`load_representations` asks, concurrently and once each:

- CPR for every person whose custody holders or guardians include the caller
  (``CprSource.represented_by``);
- Digital Fuldmagt for every power the caller holds (``FuldmagtSource.powers_held_by``);

then CPR once more for the givers of powers it has not read yet (their names), and decides each
person with the very rules access is decided by: a child is listed until the 15th birthday, an
expired power is not listed, and the categories are those a request would be allowed. Only citizens
have representations; nothing is asked for anyone else.

What is listed is the caller's own relations, told to the caller alone, so it leaves no access record
in the represented person's Min Log (ADR 0017); a represented person's protected name is left out
where the relation would not show it (a parent of a child under name protection). A source that
fails leaves out what it would have told and names itself (``SOURCE_UNAVAILABLE`` at ``me.actsFor``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Final, Protocol

from auth.actor import Actor, ActorKind
from auth.policy import (
    CUSTODY_ENDS_AT_AGE,
    REPRESENTATION_KINDS,
    SEES_PROTECTED,
    DecisionFacts,
    birthday,
    representation_grants,
)
from sources.audit import AccessorKind
from sources.categories import DataCategory
from sources.errors import SourceError
from sources.models import PersonRecord, PowerOfAttorneyRecord

REPRESENTATIONS_FIELD: Final = "Me.actsFor"
"""The field whose selection makes the gate load the caller's representations."""


class RepresentedSource(Protocol):
    """CPR, both ways: persons by number, and persons by their custody holder or guardian."""

    async def persons_for(self, cprs: Sequence[str]) -> Mapping[str, PersonRecord | None]: ...

    async def represented_by(self, holder_cpr: str) -> list[PersonRecord]: ...


class HeldPowerSource(Protocol):
    """Digital Fuldmagt: every power one holder holds."""

    async def powers_held_by(self, holder_cpr: str) -> list[PowerOfAttorneyRecord]: ...


@dataclass(frozen=True)
class RepresentationSources:
    """The sources ``me.actsFor`` reads."""

    persons: RepresentedSource
    powers: HeldPowerSource


@dataclass(frozen=True, slots=True)
class Representation:
    """One person the caller may act for, and how."""

    cpr: str
    name: str | None
    """``None`` when CPR could not be read, or the person's name is protected from this relation."""
    kinds: tuple[AccessorKind, ...]
    """Guardian, representative (power of attorney) or parent, in that order."""
    categories: frozenset[DataCategory]
    """What the caller may see and change of the person."""
    scopes: frozenset[str]
    """The scopes of the caller's valid powers of attorney from the person."""
    until: date | None
    """The last day the caller may act for the person, when it ends (``None``: open-ended)."""


@dataclass
class Representations:
    """The caller's representations, and the sources that could not be asked."""

    listed: list[Representation] = field(default_factory=list)
    failed: list[SourceError] = field(default_factory=list)


async def load_representations(actor: Actor, sources: RepresentationSources, today: date) -> Representations:
    """Everyone ``actor`` may act for on ``today``; nothing is asked for a caller who is not a citizen."""
    found = Representations()
    holder = actor.cpr
    if actor.kind is not ActorKind.CITIZEN or holder is None:
        return found
    related, held = await asyncio.gather(
        sources.persons.represented_by(holder), sources.powers.powers_held_by(holder), return_exceptions=True
    )
    persons: dict[str, PersonRecord] = {}
    powers: dict[str, list[PowerOfAttorneyRecord]] = {}
    for result in (related, held):
        if isinstance(result, SourceError):
            found.failed.append(result)
        elif isinstance(result, BaseException):
            raise result
    if isinstance(related, list):
        persons = {p.cpr: p for p in related}
    if isinstance(held, list):
        for power in held:
            if power.holder_cpr == holder and power.validity.contains(today):
                powers.setdefault(power.giver_cpr, []).append(power)
    unread = sorted(set(powers) - set(persons))
    if unread:
        try:
            persons |= {c: p for c, p in (await sources.persons.persons_for(unread)).items() if p is not None}
        except SourceError as error:
            found.failed.append(error)
    for cpr in sorted(set(persons) | set(powers)):
        listed = _representation(holder, cpr, persons.get(cpr), powers.get(cpr, []), today)
        if listed is not None:
            found.listed.append(listed)
    return found


def _representation(
    holder: str, cpr: str, person: PersonRecord | None, powers: list[PowerOfAttorneyRecord], today: date
) -> Representation | None:
    grants = representation_grants(holder, DecisionFacts(person=person, powers=tuple(powers)), today)
    if not grants:
        return None
    kinds = tuple(k for k in REPRESENTATION_KINDS if k in grants)
    ends: list[date | None] = []
    for kind in kinds:
        if kind is AccessorKind.GUARDIAN:
            ends.append(None)
        elif kind is AccessorKind.REPRESENTATIVE:
            ends += [p.validity.end for p in powers]
        elif person is not None and person.birth_date is not None:
            ends.append(birthday(person.birth_date, CUSTODY_ENDS_AT_AGE) - timedelta(days=1))
    until = None if not ends or None in ends else max(e for e in ends if e is not None)
    shown = person is not None and (not person.protected or bool(SEES_PROTECTED & set(kinds)))
    name = f"{person.given_name} {person.family_name}".strip() if shown and person is not None else None
    return Representation(
        cpr=cpr,
        name=name or None,
        kinds=kinds,
        categories=frozenset().union(*grants.values()),
        scopes=frozenset(s for p in powers for s in p.scopes),
        until=until,
    )
