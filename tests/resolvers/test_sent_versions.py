"""A subscription sends each appointment version once, however often the polls' overlap returns it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from resolvers.subscription import MAX_REMEMBERED, SentVersions
from sources.clinical import AppointmentRecord, AppointmentStatus, OrganisationRef

STARTED = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)


def record(number: int, version: int, updated: datetime | None = STARTED) -> AppointmentRecord:
    return AppointmentRecord(
        id=f"a-{number}",
        cpr="1403723705",
        source="region-syddanmark",
        organisation=OrganisationRef("378641000016007", "Nefrologisk Afdeling Y, OUH", None),
        status=AppointmentStatus.BOOKED,
        start=datetime(2030, 2, 1, 9, 0, tzinfo=UTC),
        version=version,
        updated=updated,
    )


@st.composite
def polls(draw: st.DrawFn) -> list[tuple[list[AppointmentRecord], datetime | None]]:
    """Polls as a source that honours ``_lastUpdated`` answers them: each returns the versions changed since
    its cursor (which a poll every endpoint answered in full moves on); versions of one appointment change
    later as they grow; some polls fail somewhere and do not move the cursor."""
    changes = draw(st.lists(st.tuples(st.integers(0, 4), st.integers(0, 60)), max_size=12))
    history: list[AppointmentRecord] = []
    for number in {n for n, _ in changes}:
        moments = sorted(t for n, t in changes if n == number)
        history += [record(number, v, STARTED + timedelta(seconds=t)) for v, t in enumerate(moments, start=1)]
    answered: list[tuple[list[AppointmentRecord], datetime | None]] = []
    cursor = STARTED
    for now in sorted(draw(st.lists(st.integers(0, 70), min_size=1, max_size=8))):
        moment = STARTED + timedelta(seconds=now)
        found = [r for r in history if r.updated is not None and cursor <= r.updated <= moment]
        if draw(st.booleans()):  # every endpoint answered: the next poll asks from a little before this one
            cursor = max(cursor, moment - timedelta(seconds=draw(st.integers(0, 10))))
            answered.append((found, cursor))
        else:
            answered.append((found, None))
    return answered


@given(polls=polls())
def test_each_version_is_sent_at_most_once_and_never_an_older_one_after_a_newer(
    polls: list[tuple[list[AppointmentRecord], datetime | None]],
) -> None:
    sent = SentVersions(STARTED)
    newest: dict[str, int] = {}
    delivered: list[tuple[str, int]] = []
    returned = {(r.id, r.version) for found, _ in polls for r in found}
    for found, cursor in polls:
        for item in sent.new(found):
            assert item.version > newest.get(item.id, 0)
            newest[item.id] = item.version
            delivered.append((item.id, item.version))
        if cursor is not None:
            sent.passed(cursor)
    assert len(delivered) == len(set(delivered))
    # Nothing returned is lost unless a newer version of it was sent.
    assert all(newest.get(key, 0) >= version for key, version in returned)


def test_a_change_made_before_the_subscription_started_is_not_sent_but_a_later_version_is() -> None:
    sent = SentVersions(STARTED)
    assert sent.new([record(1, 1, STARTED - timedelta(seconds=1))]) == []
    assert [r.version for r in sent.new([record(1, 2, STARTED + timedelta(seconds=1))])] == [2]
    assert sent.new([record(2, 1, None)]) != []  # a source that does not say when: its answer decides


def test_a_version_the_cursor_has_passed_is_forgotten_and_never_sent_again() -> None:
    sent = SentVersions(STARTED)
    change = record(1, 1, STARTED + timedelta(seconds=5))
    assert sent.new([change]) == [change]
    assert sent.new([change]) == []
    sent.passed(STARTED + timedelta(seconds=6))
    assert sent.versions == {}
    assert sent.new([change]) == []


def test_what_a_subscription_remembers_is_bounded() -> None:
    sent = SentVersions(STARTED)
    sent.new([record(n, 1) for n in range(MAX_REMEMBERED + 10)])
    assert len(sent.versions) == MAX_REMEMBERED
