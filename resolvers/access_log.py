"""The patient's access log (Min Log): who read or changed the patient's data, told in Danish.

The entries come from the gateway's own access records (:mod:`sources.audit`), newest first, read
through the request's :class:`~resolvers.context.AccessLogReader` one page at a time: the store
pages by keyset (``at``, ``id``), so a page costs the same however far back it is. The wording of
each entry is in :mod:`resolvers.access_log_words`.

Dates are Danish local dates, turned into a half-open UTC range. The law keeps entries for two
years, so that is the default range and the furthest back a caller may ask.

For a patient with name and address protection, a caller who gets placeholders (a parent with custody)
sees entries without the names, organisations, systems and override reasons of those who acted: the
GP practice or municipality that read a child's data, or a foster parent's name, would tell where the
child lives (:mod:`resolvers.protection`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta

import strawberry

from resolvers.access_log_words import accessor_of, ground_text, in_order, safe_name, summary_of, words_for
from resolvers.bounds import DateRange, Defaults
from resolvers.context import AccessLogReader
from resolvers.paging import Connection, Cursor, Key, PageInfo
from resolvers.protection import ProtectedDetail, Redactable, protects
from resolvers.sectors import NO_SECTORS, Sectors
from resolvers.vocabulary import AccessActivity, AccessorKind, AccessOutcome, DataCategory, OverrideGround
from sources.audit import AccessRecord
from sources.payloads import COPENHAGEN

RETENTION_YEARS = 2
CURSOR_TAG = "minlog"

RANGE = DateRange(start="from", end="to", years_back=RETENTION_YEARS, defaults=Defaults.YEARS_BACK)
"""``Patient.accessLog(from:, to:)``: the two years the log keeps, by default and at most."""


@strawberry.type(
    description="A professional's override of the patient's blocks (værdispring, consent override) that lifted a block."
)
class AccessOverride:
    ground: OverrideGround = strawberry.field(description="The ground (grundlag).")
    ground_text: str = strawberry.field(
        description='The ground in Danish, to the patient: "Du gav samtykke" or "Du kunne ikke kontaktes".'
    )
    reason: str | None = strawberry.field(description="The professional's reason (begrundelse), as written.")


@strawberry.type(
    description="One entry of the patient's access log (Min Log): one request's access to the patient.",
    directives=[
        protects(
            ProtectedDetail.PLACE,
            kept=("id", "at", "activity", "outcome", "whoKind", "what", "categories", "withheld", "denied"),
        )
    ],
)
class AccessLogEntry(Redactable):
    record: strawberry.Private[AccessRecord] = dataclasses.field(repr=False)
    """What the entry tells, kept to tell it again without names (:meth:`redacted`); never printed."""
    id: strawberry.ID = strawberry.field(description="The entry's ID.")
    at: datetime = strawberry.field(description="When (tidspunkt), Danish time.")
    activity: AccessActivity = strawberry.field(description="Read (læst) or changed (ændret).")
    outcome: AccessOutcome = strawberry.field(description="Shown, refused, or nothing shown (udfald).")
    who: str = strawberry.field(
        description='Who (hvem): the person\'s name, or "Dig selv" for the patient. Never a CPR number.'
    )
    who_kind: AccessorKind = strawberry.field(description="The kind of accessor, by their relation to you.")
    role: str = strawberry.field(
        description=(
            'The role (rolle) in Danish: "Dig", "Din repræsentant med fuldmagt", "Forælder med forældremyndighed", '
            '"Værge", the profession ("Læge"), "Medhjælp for <navn>", …'
        )
    )
    organisation_name: str | None = strawberry.field(
        description="The name of the organisation the accessor acted for (organisation), when known."
    )
    organisation_sor_id: str | None = strawberry.field(
        description="The SOR-ID of the organisation the accessor acted for, when known."
    )
    system: str | None = strawberry.field(
        description="The vendor system (fagsystem: its client registration) when a system acted; null otherwise."
    )
    on_behalf_of: str | None = strawberry.field(
        description="The responsible professional's name (ansvarlig sundhedsperson) when an assistant acted."
    )
    what: list[str] = strawberry.field(
        description='What was shown or changed (hvad), in plain Danish: "dine aftaler", "dit stamkort", …'
    )
    categories: list[DataCategory] = strawberry.field(description="What was shown or changed, as categories.")
    withheld: list[DataCategory] = strawberry.field(
        description="Categories your blocks (Min Spærring) narrowed for this accessor."
    )
    denied: list[DataCategory] = strawberry.field(description="Categories asked for and refused (afvist).")
    override: AccessOverride | None = strawberry.field(
        description=(
            "Null unless a professional's override (værdispring) lifted one of your blocks; a refused override "
            "is never shown."
        )
    )
    summary: str = strawberry.field(
        description=(
            "One Danish sentence (resumé), e.g. 'Mette Test Larsen (læge, Nyremedicinsk afdeling, OUH) så dine "
            "aftaler.'"
        )
    )

    @classmethod
    def from_record(cls, record: AccessRecord) -> AccessLogEntry:
        """The entry for ``record``; never reads ``actor_id``."""
        accessor = accessor_of(record)
        return cls(
            record=record,
            id=strawberry.ID(record.id),
            at=record.at.astimezone(COPENHAGEN),
            activity=record.activity,
            outcome=record.outcome,
            who=accessor.who,
            who_kind=accessor.kind,
            role=accessor.role,
            organisation_name=record.organisation_name,
            organisation_sor_id=record.organisation_sor,
            system=record.client_id if accessor.kind is AccessorKind.SYSTEM else None,
            on_behalf_of=safe_name(record.acting_for_name) if accessor.kind is AccessorKind.ASSISTANT else None,
            what=words_for(record.returned),
            categories=in_order(record.returned),
            withheld=in_order(record.withheld),
            denied=in_order(record.denied),
            override=_override(record),
            summary=summary_of(record, accessor),
        )

    def redacted(self, sectors: Sectors = NO_SECTORS) -> AccessLogEntry:
        """The entry told without who acted beyond their role, where, through which system, or why."""
        anonymous = replace(
            self.record,
            actor_name=None,
            organisation_sor=None,
            organisation_name=None,
            client_id=None,
            acting_for_name=None,
            override_reason=None,
        )
        return AccessLogEntry.from_record(anonymous)


@strawberry.type(
    name="AccessLogEntryConnection",
    description=(
        "One page of the patient's access log (Min Log), newest first, in a range of Danish dates (a connection)."
    ),
)
class AccessLogEntryConnection(Connection[AccessLogEntry]):
    start: date = strawberry.field(name="from", description="First date of the range (Danish time).")
    end: date = strawberry.field(name="to", description="Last date of the range, inclusive (Danish time).")


@dataclass(frozen=True, slots=True)
class LogWindow:
    """The local dates asked for and the half-open UTC range they cover."""

    start: date
    end: date
    since: datetime
    until: datetime | None
    """``None`` when the range reaches today: everything up to now."""


def log_window(start: date | None, end: date | None, today: date) -> LogWindow:
    """The range asked for (default: the two years the log keeps; checked before execution: :data:`RANGE`);
    ``end`` is inclusive."""
    first, last = RANGE.window(start, end, today)
    assert first is not None and last is not None  # YEARS_BACK fills both
    until = None if last >= today else _midnight(last + timedelta(days=1))
    return LogWindow(first, last, _midnight(first), until)


async def read_access_log(
    log: AccessLogReader, cpr: str, window: LogWindow, first: int, after: str | None
) -> AccessLogEntryConnection:
    """One page of ``cpr``'s log in ``window``: ``first`` entries strictly older than the ``after`` cursor.

    ``totalCount`` is the store's count of the range, asked only when selected; it counts every stored
    entry a page can hold, so a page may show fewer (an entry this version cannot read keeps its place).
    ``first`` and ``after`` were checked before execution (:data:`~resolvers.paging.PAGE`, :data:`CURSOR`).
    """
    before = _moment(CURSOR.decode(after)) if after is not None else None
    page = await log.log_page(cpr, since=window.since, until=window.until, limit=first, before=before)
    # The cursor and "more" come from the rows the store read, readable or not, so paging is exact
    # even where a stored row outside the vocabulary is left out (the page then shows fewer entries).
    start = _cursor(page.records[0].at, page.records[0].id) if page.records else None
    end = _cursor(*page.end) if page.end is not None else None
    info = PageInfo(has_next_page=page.more, has_previous_page=before is not None, start_cursor=start, end_cursor=end)

    async def count() -> int:
        return await log.log_count(cpr, since=window.since, until=window.until)

    return AccessLogEntryConnection(
        nodes=[AccessLogEntry.from_record(r) for r in page.records],
        page_info=info,
        total=count,
        start=window.start,
        end=window.end,
    )


def _cursor(at: datetime, ident: str) -> str:
    return CURSOR.encode(((at - _EPOCH) // timedelta(microseconds=1), ident))


def _moment(position: Key) -> tuple[datetime, str]:
    """The store's position (``at``, ``id``) of a cursor's (one :data:`CURSOR` accepts)."""
    micros, ident = position
    assert isinstance(micros, int) and isinstance(ident, str)  # the shape the cursor has
    return _EPOCH + timedelta(microseconds=micros), ident


def _a_moment(position: Key) -> bool:
    """Whether a cursor's position names a moment (microseconds the calendar holds)."""
    try:
        _moment(position)
    except OverflowError:
        return False
    return True


CURSOR = Cursor(CURSOR_TAG, (int, str), fits=_a_moment)
"""``Patient.accessLog(after:)``: a cursor of the log (of another list, or no moment, is out of bounds)."""
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), COPENHAGEN).astimezone(UTC)


def _override(record: AccessRecord) -> AccessOverride | None:
    if record.override_ground is None:
        return None
    ground = record.override_ground
    return AccessOverride(ground=ground, ground_text=ground_text(ground), reason=record.override_reason)
