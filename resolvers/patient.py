"""The root of the graph: one patient's overview, and who the caller is."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import strawberry
from strawberry.federation.schema_directives import Key
from strawberry.federation.types import FieldSet

from resolvers import access_log, appointments
from resolvers.access_log import AccessLogEntryConnection, log_window, read_access_log
from resolvers.appointments import AppointmentFilter, Appointments, apply_filter, window_of
from resolvers.appointments import build as build_appointments
from resolvers.blocks import BLOCKS_CURSOR, Block, patient_blocks
from resolvers.context import Info, gather, load, plan_of, report, require, returned
from resolvers.directives import reveals
from resolvers.gather import Gathered, GatherKey
from resolvers.master_card import MasterCard
from resolvers.paging import DEFAULT_PAGE, FIRST_TEXT, PAGE, Connection, First
from resolvers.person import Person
from resolvers.plans import (
    DIAGNOSES_CURSOR,
    GOALS_CURSOR,
    PLANS_CURSOR,
    Diagnoses,
    Goals,
    Plans,
    care_plans,
    diagnoses,
    goals,
)
from resolvers.practice import GeneralPractitioner
from resolvers.protection import ProtectedDetail, protected_field, protection_lookup
from resolvers.scalars import CPR
from sources.categories import DataCategory
from sources.clinical import DateWindow
from sources.deadline import Wave, in_wave
from sources.payloads import COPENHAGEN


@strawberry.type(
    description=(
        "One patient's overview (Et Samlet Patientoverblik), read live from the sources. A Federation entity "
        "keyed by `id`, which other graphs join the patient on."
    ),
    directives=[Key(fields=FieldSet("id"))],
)
class Patient:
    cpr: CPR = strawberry.field(description="The patient's CPR number (personnummer).")

    @strawberry.field(
        description=(
            "The patient's key in the federated graph: opaque, the same in every request to this deployment, "
            'never the CPR number (ADR 0022). Pass it to `_entities` as `{__typename: "Patient", id: …}`.'
        )
    )
    def id(self, info: Info) -> strawberry.ID:
        return strawberry.ID(info.context.patient_keys.key_of(self.cpr))

    @protected_field(
        ProtectedDetail.NAME, description="The person as registered in CPR.", directives=[reveals(DataCategory.PERSON)]
    )
    async def person(self, info: Info) -> Person | None:
        require(info, self.cpr, DataCategory.PERSON)
        if plan_of(info).redact_protected(self.cpr):
            protection_lookup(info, self.cpr)  # every patient's protection in the same CPR request as this
        record = await load(info, self.cpr, DataCategory.PERSON, info.context.loaders.persons)
        return Person.from_record(record) if record is not None else None

    @protected_field(
        ProtectedDetail.PLACE,
        description="The patient's own general practice (egen læge); null for group 2 insured without one.",
        directives=[reveals(DataCategory.GP)],
    )
    async def general_practitioner(self, info: Info) -> GeneralPractitioner | None:
        require(info, self.cpr, DataCategory.GP)
        assignment = await info.context.loaders.gp_assignments.get(self.cpr)
        if assignment is None or assignment.ydernummer is None:
            return None
        with in_wave(Wave.SECOND):  # the practice needs the assignment's answer (ADR 0024)
            practice = await info.context.loaders.practices.get(assignment.ydernummer)
        if practice is None:
            return None
        report(info, list(practice.problems))
        returned(info, self.cpr, DataCategory.GP)
        return GeneralPractitioner.from_record(practice)

    @strawberry.field(
        description="The shared master card (Fælles Stamkort), with register flags.",
        directives=[reveals(DataCategory.MASTER_CARD)],
    )
    async def master_card(self, info: Info) -> MasterCard | None:
        record = await load(info, self.cpr, DataCategory.MASTER_CARD, info.context.loaders.master_cards)
        if record is None:
            return None
        report(info, list(record.problems))
        return MasterCard(cpr=self.cpr, record=record)

    @strawberry.field(
        description=(
            "Appointments (aftaler) from hospitals, municipalities and general practice, merged from every "
            f"source, in a date range ({appointments.RANGE.text()}), with list, day and week views."
        ),
        directives=[reveals(DataCategory.APPOINTMENTS), appointments.RANGE],
    )
    async def appointments(
        self,
        info: Info,
        start: Annotated[
            date | None, strawberry.argument(name="from", description="First date (default: today, Danish time).")
        ] = None,
        end: Annotated[
            date | None, strawberry.argument(name="to", description="Last date, inclusive (default: from + 90 days).")
        ] = None,
        where: Annotated[
            AppointmentFilter | None,
            strawberry.argument(name="filter", description="Narrow the list by sector, place or status."),
        ] = None,
    ) -> Appointments | None:
        decision = require(info, self.cpr, DataCategory.APPOINTMENTS)
        first, last, window = window_of(start, end, datetime.now(COPENHAGEN).date())
        wanted = where or AppointmentFilter()
        key = GatherKey(self.cpr, window, decision.item_filter, wanted.wants_cancelled(), wanted.kind_set())
        found = await gather(info, DataCategory.APPOINTMENTS, info.context.loaders.appointments, key)
        shown = Gathered(apply_filter(found.items, wanted), found.errors, found.asked)
        return build_appointments(shown, first, last, decision.withheld)

    @strawberry.field(
        description=(
            "Plans (forløbsplaner, kommunale planer, hospitalsplaner) with their interventions (indsatser), from "
            "every plan source, newest first."
        ),
        directives=[reveals(DataCategory.PLANS)],
    )
    async def plans(
        self, info: Info, first: First = DEFAULT_PAGE, after: Annotated[str | None, PLANS_CURSOR.argument] = None
    ) -> Plans | None:
        decision = require(info, self.cpr, DataCategory.PLANS)
        key = GatherKey(self.cpr, DateWindow(), decision.item_filter)
        found = await gather(info, DataCategory.PLANS, info.context.loaders.care_plans, key)
        return care_plans(found, decision.withheld, first, after)

    @strawberry.field(
        description=(
            "Goals (mål): life goals, disease-specific and functional goals, each with its sub-goals (delmål); "
            "overall goals and sub-goals alike, from every plan source, newest first."
        ),
        directives=[reveals(DataCategory.GOALS)],
    )
    async def goals(
        self, info: Info, first: First = DEFAULT_PAGE, after: Annotated[str | None, GOALS_CURSOR.argument] = None
    ) -> Goals | None:
        decision = require(info, self.cpr, DataCategory.GOALS)
        key = GatherKey(self.cpr, DateWindow(), decision.item_filter)
        found = await gather(info, DataCategory.GOALS, info.context.loaders.goals, key)
        return goals(found, decision.withheld, first, after)

    @strawberry.field(
        description=(
            "Diagnoses (diagnoser) in SKS, ICPC2, FSIII or SNOMED CT, with Danish text, from every plan source, "
            "newest first."
        ),
        directives=[reveals(DataCategory.DIAGNOSES)],
    )
    async def diagnoses(
        self, info: Info, first: First = DEFAULT_PAGE, after: Annotated[str | None, DIAGNOSES_CURSOR.argument] = None
    ) -> Diagnoses | None:
        decision = require(info, self.cpr, DataCategory.DIAGNOSES)
        key = GatherKey(self.cpr, DateWindow(), decision.item_filter)
        found = await gather(info, DataCategory.DIAGNOSES, info.context.loaders.conditions, key)
        return diagnoses(found, decision.withheld, first, after)

    @strawberry.field(
        description=(
            "The patient's blocks (spærringer, Min Spærring) on health professionals, treatment places and "
            "periods of data, as the consent service (Samtykkeservice) holds them, newest first by when they apply."
        ),
        directives=[reveals(DataCategory.BLOCKS)],
    )
    async def blocks(
        self, info: Info, first: First = DEFAULT_PAGE, after: Annotated[str | None, BLOCKS_CURSOR.argument] = None
    ) -> Connection[Block] | None:
        return await patient_blocks(info, self.cpr, first, after)

    @protected_field(
        ProtectedDetail.PLACE,
        description=(
            "The patient's access log (Min Log): who read or changed the patient's data through this gateway, "
            f"newest first, told in Danish. Entries are kept two years ({access_log.RANGE.text()})."
        ),
        directives=[reveals(DataCategory.ACCESS_LOG), access_log.RANGE],
    )
    async def access_log(
        self,
        info: Info,
        start: Annotated[
            date | None, strawberry.argument(name="from", description="First date (default: two years ago).")
        ] = None,
        end: Annotated[
            date | None, strawberry.argument(name="to", description="Last date, inclusive (default: today).")
        ] = None,
        first: Annotated[
            int,
            strawberry.argument(
                description=(
                    f"{FIRST_TEXT} A page may hold fewer while more follow (a stored entry this version cannot "
                    "read keeps its place unseen)."
                ),
                directives=[PAGE],
            ),
        ] = DEFAULT_PAGE,
        after: Annotated[str | None, access_log.CURSOR.argument] = None,
    ) -> AccessLogEntryConnection | None:
        require(info, self.cpr, DataCategory.ACCESS_LOG)
        window = log_window(start, end, datetime.now(COPENHAGEN).date())
        page = await read_access_log(info.context.access_log, self.cpr, window, first, after)
        returned(info, self.cpr, DataCategory.ACCESS_LOG)
        return page
