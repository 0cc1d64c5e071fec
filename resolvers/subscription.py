"""The subscription root: changes to a patient's appointments, pushed as the sources tell them (ADR 0023).

``appointmentsChanged(cpr:)`` watches every appointment endpoint by polling it for what changed since
its last look (FHIR's ``_lastUpdated``, :class:`~sources.clinical.ClinicalSearch` ``changed_since``).
Each poll is its own decision: :meth:`~resolvers.context.StreamView.next_poll` decides the operation
again from facts loaded then, so a block made since the last poll ends the stream with its coded error
before anything is fetched (a block on part of the data, an organisation or a period, narrows the next
search instead, and the event says ``withheld``). What an allowed poll finds goes through the same
loader, pushed-down filter and way-out check as ``Patient.appointments``.

An event is sent when a poll finds a new version of an appointment (created, moved, cancelled), or
when the endpoints' states change (one failing: ``complete: false`` with a coded error naming it; and
again when it answers). Each event leaves its access record before it is sent. A poll that failed
somewhere does not move the cursor, so what it missed is asked again; versions already sent are not
sent twice (:class:`SentVersions`).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Annotated

import strawberry

from resolvers.appointments import Appointment
from resolvers.common import SourceState, SourceStatus, source_statuses
from resolvers.context import Info, StreamView, plan_of, report, require, returned
from resolvers.directives import PatientScope, reveals
from resolvers.gather import GatherKey
from resolvers.scalars import CPR
from sources.categories import DataCategory
from sources.clinical import AppointmentRecord, DateWindow

MAX_REMEMBERED = 10_000
"""Appointment versions one subscription remembers having sent, at most (the oldest are forgotten first)."""


@strawberry.type(
    description=(
        "What changed in the patient's appointments since the previous event: the appointments created, moved "
        "or cancelled, as they are now, and how every endpoint answered."
    )
)
class AppointmentChanges:
    appointments: list[Appointment] = strawberry.field(
        description=(
            "The appointments with a new version since the previous event, by start time; a cancelled one has "
            "status CANCELLED. Empty when only an endpoint's state changed."
        )
    )
    withheld: bool = strawberry.field(
        description="The patient's blocks (Min Spærring) hold something back from you; never what or how much."
    )
    complete: bool = strawberry.field(
        description="Every endpoint answered; false means changes may be missing (they come once it answers)."
    )
    sources: list[SourceStatus] = strawberry.field(description="Each endpoint watched and how it answered.")


@strawberry.type(description="Changes pushed over WebSocket (graphql-transport-ws at /graphql), decided per event.")
class Subscription:
    @strawberry.subscription(
        description=(
            "Changes to one patient's appointments as they happen, from every sector. Access is decided when it "
            "starts and again before every look at the sources: a block made meanwhile ends the stream with "
            "CONSENT_DENIED, a token that expires ends it with UNAUTHENTICATED, and every event leaves an access "
            "record before it is sent. Changes made before the subscription started are not sent."
        ),
        directives=[PatientScope(patient_argument="cpr"), reveals(DataCategory.APPOINTMENTS)],
    )
    def appointments_changed(
        self, info: Info, cpr: Annotated[CPR, strawberry.argument(description="The patient's CPR number.")]
    ) -> AsyncGenerator[AppointmentChanges, None]:
        require(info, cpr, DataCategory.APPOINTMENTS)  # refused at the start: an error, and no stream
        stream = info.context.stream
        if stream is None:
            raise RuntimeError("a subscription runs only over the WebSocket endpoint")
        return watch_appointments(info, stream, cpr)


@dataclass
class SentVersions:
    """The appointment versions a subscription has sent, to send each change once.

    A poll asks a little further back than the previous one began, so a change comes back in more than
    one poll. Once a poll every endpoint answered in full has moved the cursor past a change, no later
    poll can return it: it is forgotten, and anything that changed before the cursor is not new.
    """

    not_before: datetime
    """What changed before this was sent already, or before the subscription started."""
    versions: dict[str, tuple[int, datetime | None]] = field(default_factory=dict)
    """Stable appointment ID → the newest version sent, and when it changed (``None``: not said)."""

    def new(self, records: Iterable[AppointmentRecord]) -> list[AppointmentRecord]:
        """The records with a version not yet sent, leaving out what changed before :attr:`not_before`."""
        fresh = []
        for record in records:
            if record.updated is not None and record.updated < self.not_before:
                continue
            known = self.versions.get(record.id)
            if known is not None and record.version <= known[0]:
                continue
            self.versions[record.id] = (record.version, record.updated)
            fresh.append(record)
        while len(self.versions) > MAX_REMEMBERED:
            del self.versions[next(iter(self.versions))]
        return fresh

    def passed(self, cursor: datetime) -> None:
        """Every endpoint answered a poll in full, and the next asks from ``cursor``: forget what changed before."""
        self.not_before = max(self.not_before, cursor)
        self.versions = {
            key: (version, updated)
            for key, (version, updated) in self.versions.items()
            if updated is None or updated >= self.not_before
        }


async def watch_appointments(info: Info, stream: StreamView, cpr: str) -> AsyncGenerator[AppointmentChanges, None]:
    """Poll the appointment endpoints for changes and yield one event per poll that found some (module doc)."""
    sent = SentVersions(stream.started_at)
    since = stream.started_at
    failing: list[tuple[str, str]] = []
    while True:
        began = await stream.next_poll()  # raises the coded error that ends the stream
        decision = require(info, cpr, DataCategory.APPOINTMENTS)
        current = plan_of(info).require_patient(cpr)
        key = GatherKey(current, DateWindow(), decision.item_filter, include_cancelled=True, changed_since=since)
        found = await info.context.loaders.appointments.get(key)
        fresh = sent.new(found.items)
        states = source_statuses(found.asked, found.errors)
        if found.complete:
            since = max(since, began - timedelta(seconds=stream.overlap_s))
            sent.passed(since)
        if fresh or _failing(states) != failing:
            failing = _failing(states)
            report(info, found.errors)
            if fresh:
                returned(info, current, DataCategory.APPOINTMENTS)
            await stream.record()  # no record, no event
            yield AppointmentChanges(
                appointments=[Appointment.from_record(r) for r in fresh],
                withheld=decision.withheld,
                complete=found.complete,
                sources=states,
            )


def _failing(statuses: list[SourceStatus]) -> list[tuple[str, str]]:
    """The endpoints that did not answer in full, and how (an event is sent when this changes)."""
    return [(s.source, s.state.value) for s in statuses if s.state is not SourceState.OK]
