"""Bounds on what arguments and input fields take, each declared once, beside what it bounds.

A bound is a schema directive: it prints in ``schema.graphql`` (clients and reviewers read it there),
its text goes into the description of what it bounds (written from the same object, so the two
cannot disagree), and the gateway checks it before anything is decided or fetched, on the operation
as execution will run it: coerced variables, defaults, ``@skip``/``@include`` (``gateway.arguments``,
ADR 0009). A request with a value out of bounds runs nothing. Resolvers never check a bound again:
the values they get hold (:meth:`Format.normal` only puts a valid value in its normal form).

- ``@constraint`` on an argument or input field, in the words of graphql-constraint-directive:
  ``min``/``max`` of an ``Int``, ``maxLength`` of a text (surrounding spaces not counted), ``maxItems``
  of a list, and ``format`` of a text or of each text in a list, a :class:`Format` checked in Python;
- ``@dateRange`` on a field or input type: two of its ``Date`` arguments (input fields) name a range,
  both ends inclusive (:class:`DateRange`);
- ``@everyDay`` on a field whose argument lists every day of the enclosing field's range, which bounds
  the range's span (:class:`EveryDay`);
- an input type's own rule across its fields, a ``refusals`` class method (:class:`InputRule`).

Every refusal names where the value went and says what the bound takes, never the value (its text is
made of the declaration only).
"""

# No ``from __future__ import annotations`` here: strawberry reads ``strawberry.Private`` fields of a schema
# directive only from evaluated annotations.
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from enum import Enum
from typing import Any, Protocol, assert_never

import strawberry
from strawberry.schema_directive import Location


@dataclass(frozen=True, slots=True)
class Refusal:
    """A value out of bounds: ``path`` from the argument (or input object) it was in, and what is allowed."""

    path: tuple[str | int, ...]
    problem: str


@dataclass(frozen=True)
class Format:
    """A form a text must have: ``name`` as ``@constraint(format:)`` prints it, ``text`` saying what it
    takes, ``normalise`` giving the text in its normal form or ``None`` when it is not of the form."""

    name: str
    text: str
    normalise: Callable[[str], str | None]
    blank_is_absent: bool = False
    """A blank text counts as not given (an optional field of free text)."""
    why: Callable[[str], str] | None = None
    """What is wrong with a text not of the form, when the form can say it more exactly than "must be <text>"
    (made of the form's words, never the text's)."""

    def problem(self, value: str) -> str:
        """What is wrong with ``value``, which is not of the form."""
        return self.why(value) if self.why is not None else f"must be {self.text}"

    def accepts(self, value: str) -> bool:
        return (self.blank_is_absent and not value.strip()) or self.normalise(value) is not None

    def normal(self, value: str) -> str:
        """``value`` in its normal form; the gateway has checked it before execution (a ``ValueError`` here
        is the gateway's fault, masked as an internal error)."""
        normal = self.normalise(value)
        if normal is None:
            raise ValueError(f"a value not of the form {self.name} reached a resolver")
        return normal

    def optional(self) -> "Format":
        """This format for an optional field of free text: a blank value is simply not given."""
        return Format(self.name, f"{self.text}; blank counts as not given", self.normalise, True, self.why)


@strawberry.schema_directive(
    locations=[Location.ARGUMENT_DEFINITION, Location.INPUT_FIELD_DEFINITION],
    name="constraint",
    description=(
        "The values this argument or input field takes (graphql-constraint-directive's names): min and max of a "
        "number, maxLength of a text (surrounding spaces not counted), maxItems of a list, format of a text or of "
        "each text of a list. A value outside is BAD_USER_INPUT naming the argument, and nothing runs."
    ),
)
class Constraint:
    min: int | None = strawberry.UNSET
    max: int | None = strawberry.UNSET
    max_length: int | None = strawberry.UNSET
    max_items: int | None = strawberry.UNSET
    format: str | None = strawberry.UNSET
    checked_format: strawberry.Private[Format | None] = None

    def text(self) -> str:
        """What the bound allows, for the description."""
        parts = []
        low, high = _int(self.min), _int(self.max)
        if low is not None or high is not None:
            parts.append(
                f"{low} to {high}"
                if low is not None and high is not None
                else f"at least {low}"
                if low is not None
                else f"at most {high}"
            )
        if (length := _int(self.max_length)) is not None:
            parts.append(f"at most {length} characters")
        if (items := _int(self.max_items)) is not None:
            parts.append(f"at most {items} items")
        if self.checked_format is not None:
            parts.append(self.checked_format.text)
        return "; ".join(parts)

    def refusals(self, value: Any) -> Iterator[Refusal]:
        """What of ``value`` (a coerced argument; each item of a list) is outside the bound."""
        if isinstance(value, list):
            if (items := _int(self.max_items)) is not None and len(value) > items:
                yield Refusal((), f"must hold at most {items} items")
            for index, item in enumerate(value):
                yield from (Refusal((index, *r.path), r.problem) for r in self._item(item))
        else:
            yield from self._item(value)

    def _item(self, value: Any) -> Iterator[Refusal]:
        if isinstance(value, int) and not isinstance(value, bool):
            low, high = _int(self.min), _int(self.max)
            if (low is not None and value < low) or (high is not None and value > high):
                yield Refusal((), f"must be {self.text()}")
        if isinstance(value, str):
            if (length := _int(self.max_length)) is not None and len(value.strip()) > length:
                yield Refusal((), f"must be at most {length} characters")
            if self.checked_format is not None and not self.checked_format.accepts(value):
                yield Refusal((), self.checked_format.problem(value))


def constraint(
    *,
    min: int | None = None,
    max: int | None = None,
    max_length: int | None = None,
    max_items: int | None = None,
    format: Format | None = None,
) -> Constraint:
    """A ``@constraint`` printing only what it sets."""
    return Constraint(
        min=strawberry.UNSET if min is None else min,
        max=strawberry.UNSET if max is None else max,
        max_length=strawberry.UNSET if max_length is None else max_length,
        max_items=strawberry.UNSET if max_items is None else max_items,
        format=strawberry.UNSET if format is None else format.name,
        checked_format=format,
    )


def _int(value: int | None) -> int | None:
    """A directive argument's value; ``None`` when it is not set (``UNSET`` prints nothing)."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def described(description: str, bound: Constraint) -> str:
    """``description`` with what ``bound`` allows ("Appointments per page. Takes 1 to 200.")."""
    return f"{description.rstrip('.')}. Takes {bound.text()}."


class Defaults(Enum):
    """What a range's left-out ends are."""

    OPEN = "open"
    """Nothing: a left-out end is open (the range's check then needs both)."""
    FROM_TODAY = "from_today"
    """``from``: today; ``to``: ``from`` plus the range's ``default_days``."""
    YEARS_BACK = "years_back"
    """``from``: ``years_back`` years before today; ``to``: today."""


@strawberry.schema_directive(
    locations=[Location.FIELD_DEFINITION, Location.INPUT_OBJECT],
    name="dateRange",
    description=(
        "Two Date arguments (or input fields) name a range of days, both ends inclusive: `to` is not before `from`; "
        "with maxDays `to` lies at most that many days after `from`; with yearsBack neither lies further back than "
        "that many years before today (Danish time); with endNotPast `to` is not before today. A range outside "
        "is BAD_USER_INPUT naming the argument, and nothing runs."
    ),
)
class DateRange:
    start: str | None = strawberry.directive_field(name="from", default=strawberry.UNSET)
    end: str = strawberry.directive_field(name="to")
    max_days: int | None = strawberry.UNSET
    years_back: int | None = strawberry.UNSET
    end_not_past: bool | None = strawberry.UNSET
    defaults: strawberry.Private[Defaults] = Defaults.OPEN
    default_days: strawberry.Private[int] = 0

    def window(self, start: date | None, end: date | None, today: date) -> tuple[date | None, date | None]:
        """The range asked for, left-out ends as the range's :class:`Defaults` say."""
        match self.defaults:
            case Defaults.OPEN:
                return start, end
            case Defaults.FROM_TODAY:
                first = start or today
                return first, end or first + timedelta(days=self.default_days)
            case Defaults.YEARS_BACK:
                return start or years_before(today, self._years_back()), end or today
            case _:
                assert_never(self.defaults)

    def refusals(self, values: Mapping[str, Any], today: date) -> Iterator[Refusal]:
        """What of the range in ``values`` (coerced arguments, by GraphQL name) is out of bounds."""
        start_name = self.start if isinstance(self.start, str) else None
        given_start = values.get(start_name) if start_name else None
        given_end = values.get(self.end)
        if (years := _int(self.years_back)) is not None:
            oldest = years_before(today, years) - timedelta(days=1)
            for name, given in ((start_name, given_start), (self.end, given_end)):
                if name and isinstance(given, date) and given < oldest:
                    yield Refusal((name,), f"must not lie more than {years} years back")
        if self.end_not_past is True and isinstance(given_end, date) and given_end < today:
            yield Refusal((self.end,), "must not lie in the past")
        first, last = self.window(_day(given_start), _day(given_end), today)
        if start_name is None or first is None or last is None:
            return
        if last < first and given_end is not None:
            yield Refusal((self.end,), f"must not be before '{start_name}'{self._left_out()}")
        elif last < first:
            yield Refusal((start_name,), f"must not be after '{self.end}'{self._left_out()}")
        elif (most := _int(self.max_days)) is not None and (last - first).days > most:
            yield Refusal((self.end,), f"must lie at most {most} days after '{start_name}'")

    def text(self) -> str:
        """What the range allows, for the description."""
        parts = [f"`{self.end}` is not before `{self.start}`"] if isinstance(self.start, str) else []
        if _int(self.max_days) is not None:
            parts.append(f"`{self.end}` lies at most {self.max_days} days after `{self.start}`")
        if _int(self.years_back) is not None:
            parts.append(f"neither lies further back than {self.years_back} years")
        if self.end_not_past is True:
            parts.append(f"`{self.end}` is not in the past")
        return "; ".join(parts)

    def _years_back(self) -> int:
        return _int(self.years_back) or 0

    def _left_out(self) -> str:
        """What the left-out ends are, for a refusal (nothing when they are open)."""
        match self.defaults:
            case Defaults.OPEN:
                return ""
            case Defaults.FROM_TODAY:
                return f" (left out, `from` is today and `to` {self.default_days} days after `from`)"
            case Defaults.YEARS_BACK:
                return f" (left out, `from` is {self.years_back} years back and `to` today)"
            case _:
                assert_never(self.defaults)


def _day(value: Any) -> date | None:
    return value if isinstance(value, date) else None


def years_before(day: date, years: int) -> date:
    """The same date ``years`` earlier (29 February becomes the 28th)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


@strawberry.schema_directive(
    locations=[Location.FIELD_DEFINITION],
    name="everyDay",
    description=(
        "With `argument` true the field lists every day of the enclosing field's @dateRange, which may then hold at "
        "most maxDays days; more is BAD_USER_INPUT naming the argument, and nothing runs."
    ),
)
class EveryDay:
    argument: str
    max_days: int

    def refusals(self, values: Mapping[str, Any], window: tuple[date | None, date | None] | None) -> Iterator[Refusal]:
        """A refusal when the argument is true and the enclosing range holds more than ``max_days`` days."""
        first, last = window or (None, None)
        if (
            values.get(self.argument) is True
            and first is not None
            and last is not None
            and (last - first).days >= self.max_days
        ):
            yield Refusal((self.argument,), f"may be true only for a range of at most {self.max_days} days")

    def text(self) -> str:
        return f"for a range of at most {self.max_days} days"


class InputRule(Protocol):
    """An input type with a rule across its fields no directive says (``BlockInput``: which fields each
    kind of block takes); the gateway calls it for every value of the type, before execution."""

    @classmethod
    def refusals(cls, values: Mapping[str, Any], today: date) -> Iterator[Refusal]:
        """What of ``values`` (the coerced input object, by GraphQL field name) breaks the rule."""
        ...
