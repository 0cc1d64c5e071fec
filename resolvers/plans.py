"""Plans (planer), their interventions (indsatser), goals (mål) and diagnoses (diagnoser).

Three categories, each decided on its own by the access plan: ``plans``, ``goals`` and
``diagnoses``. Items link to each other by ID (a plan's goals and diagnoses, a goal's diagnoses),
so a client can join them, and a caller allowed only some categories sees only those items.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any, TypeAlias

import strawberry

from resolvers.common import Coding, Organisation, source_statuses
from resolvers.gather import Gathered
from resolvers.paging import Cursor, Key, NodeT, Page, SourcedConnection, page
from resolvers.protection import ProtectedDetail, protected_field
from resolvers.vocabulary import graphql_enum
from sources.clinical import (
    CarePlanRecord,
    ConditionRecord,
    DiagnosisCodeSystem,
    GoalKind,
    GoalRecord,
    InterventionRecord,
    ItemFilter,
)
from sources.models import PeriodRecord


@strawberry.type(description="A period of dates (periode); either end may be open.")
class Period:
    start: date | None = strawberry.field(description="First date (startdato).")
    end: date | None = strawberry.field(description="Last date (slutdato); null while ongoing.")

    @classmethod
    def from_record(cls, record: PeriodRecord) -> Period:
        return cls(start=record.start, end=record.end)

    @classmethod
    def of(cls, record: PeriodRecord | None) -> Period | None:
        return cls.from_record(record) if record is not None else None


def exact_day(dated: PeriodRecord | None) -> date | None:
    """The one date a source gave, or ``None`` when it gave none or only a month or a year (ADR 0011)."""
    if dated is None or dated.start is None or dated.start != dated.end:
        return None
    return dated.start


@strawberry.type(description="An intervention (indsats) of a plan, e.g. FSIII G1.39 Sårbehandling.")
class Intervention:
    cpr: strawberry.Private[str]
    description: str = strawberry.field(description="What is done (handlingsanvisning).")
    status: str = strawberry.field(description="Status (FHIR CarePlan activity status, e.g. in-progress).")
    code: Coding | None = strawberry.field(description="The intervention's code (FSIII, KLE or SKS).")
    period: Period = strawberry.field(description="When it runs (bevillingsperiode).")
    performer: Organisation | None = protected_field(ProtectedDetail.PLACE, description="Who performs it (leverandør).")
    goal_ids: list[strawberry.ID] = strawberry.field(description="The goals it serves (IDs of `goals` items).")

    @classmethod
    def from_record(cls, r: InterventionRecord, cpr: str) -> Intervention:
        return cls(
            cpr=cpr,
            description=r.description,
            status=r.status,
            code=Coding.from_record(r.code),
            period=Period.from_record(r.period),
            performer=Organisation.from_record(r.performer) if r.performer else None,
            goal_ids=[strawberry.ID(g) for g in r.goal_ids],
        )


@strawberry.type(description="A plan (plan): the GP's forløbsplan, a municipal plan or a hospital plan.")
class CarePlan:
    cpr: strawberry.Private[str]
    id: strawberry.ID = strawberry.field(description="The plan's ID at its source.")
    title: str = strawberry.field(description="Title (titel).")
    description: str | None = strawberry.field(description="Description (beskrivelse).")
    status: str = strawberry.field(description="Status (FHIR RequestStatus, e.g. active, completed).")
    category: Coding | None = strawberry.field(description="What kind of plan, e.g. forløbsplan.")
    organisation: Organisation = protected_field(
        ProtectedDetail.PLACE, description="The responsible organisation (ansvarlig)."
    )
    period: Period = strawberry.field(description="When the plan runs.")
    interventions: list[Intervention] = strawberry.field(description="Its interventions (indsatser).")
    goal_ids: list[strawberry.ID] = strawberry.field(description="Its goals (IDs of `goals` items).")
    diagnosis_ids: list[strawberry.ID] = strawberry.field(description="What it addresses (IDs of `diagnoses`).")
    source: str = strawberry.field(description="The plan source it came from.")

    @classmethod
    def from_record(cls, r: CarePlanRecord) -> CarePlan:
        return cls(
            cpr=r.cpr,
            id=strawberry.ID(r.id),
            title=r.title,
            description=r.description,
            status=r.status,
            category=Coding.from_record(r.category),
            organisation=Organisation.from_record(r.organisation),
            period=Period.from_record(r.period),
            interventions=[Intervention.from_record(i, r.cpr) for i in r.interventions],
            goal_ids=[strawberry.ID(g) for g in r.goal_ids],
            diagnosis_ids=[strawberry.ID(c) for c in r.condition_ids],
            source=r.source,
        )


graphql_enum(
    GoalKind,
    name="GoalKind",
    description="The three kinds of goal (måltyper).",
    values={
        GoalKind.LIFE: "A life goal (livsmål): what matters to the citizen.",
        GoalKind.DISEASE: "A disease-specific goal (sygdomsspecifikt mål).",
        GoalKind.FUNCTIONAL: "A functional goal (funktionsmål).",
    },
)


@strawberry.type(description="A goal (mål): an overall goal, or a profession-specific sub-goal (delmål).")
class Goal:
    cpr: strawberry.Private[str]
    id: strawberry.ID = strawberry.field(description="The goal's ID at its source.")
    kind: GoalKind = strawberry.field(description="Life, disease-specific or functional goal.")
    description: str = strawberry.field(description="The goal in words (beskrivelse).")
    status: str = strawberry.field(description="Lifecycle status (FHIR GoalLifecycleStatus, e.g. active).")
    achievement: str | None = strawberry.field(description="How it is going (e.g. improving, achieved).")
    expressed_by: str | None = strawberry.field(description="Who set it: patient, practitioner or related-person.")
    profession: str | None = strawberry.field(description="For a sub-goal: the profession it belongs to (faggruppe).")
    organisation: Organisation = protected_field(ProtectedDetail.PLACE, description="The responsible organisation.")
    start: date | None = strawberry.field(
        description="When the goal was set; null when the source gave no date or only a month or a year."
    )
    due: date | None = strawberry.field(
        description="When it should be reached (måldato); null when not given as a date."
    )
    part_of_id: strawberry.ID | None = strawberry.field(description="For a sub-goal: the overall goal it serves.")
    diagnosis_ids: list[strawberry.ID] = strawberry.field(description="What it addresses (IDs of `diagnoses`).")
    category: Coding | None = strawberry.field(description="The source's category, e.g. FSIII tilstandsmål.")
    source: str = strawberry.field(description="The plan source it came from.")
    sub_goals: list[Goal] = strawberry.field(description="Sub-goals (delmål) of this goal, among those returned.")

    @classmethod
    def tree(cls, records: list[GoalRecord]) -> list[Goal]:
        """Every goal, each with the sub-goals found among ``records``."""
        children: dict[str, list[GoalRecord]] = {}
        for r in records:
            if r.part_of:
                children.setdefault(r.part_of, []).append(r)

        def make(r: GoalRecord, depth: int) -> Goal:
            subs = [make(c, depth + 1) for c in children.get(r.id, ())] if depth < 5 else []
            return cls(
                cpr=r.cpr,
                id=strawberry.ID(r.id),
                kind=r.kind,
                description=r.description,
                status=r.lifecycle_status,
                achievement=r.achievement,
                expressed_by=r.expressed_by,
                profession=r.profession,
                organisation=Organisation.from_record(r.organisation),
                start=exact_day(r.start),
                due=exact_day(r.due),
                part_of_id=strawberry.ID(r.part_of) if r.part_of else None,
                diagnosis_ids=[strawberry.ID(c) for c in r.addresses],
                category=Coding.from_record(r.category),
                source=r.source,
                sub_goals=subs,
            )

        return [make(r, 0) for r in records]


graphql_enum(
    DiagnosisCodeSystem,
    name="DiagnosisCodeSystem",
    description="The code system of a diagnosis (klassifikation).",
    values={
        DiagnosisCodeSystem.SKS: "SKS, the Danish health classification.",
        DiagnosisCodeSystem.ICPC2: "ICPC-2, used in general practice.",
        DiagnosisCodeSystem.FSIII: "Fælles Sprog III, municipal care.",
        DiagnosisCodeSystem.FFB: "Fælles Faglige Begreber, social services.",
        DiagnosisCodeSystem.SNOMED: "SNOMED CT, Danish edition.",
        DiagnosisCodeSystem.OTHER: "Another code system.",
    },
)


@strawberry.type(description="A diagnosis or problem (diagnose / tilstand).")
class Diagnosis:
    cpr: strawberry.Private[str]
    id: strawberry.ID = strawberry.field(description="The diagnosis' ID at its source.")
    code_system: DiagnosisCodeSystem = strawberry.field(description="The code system.")
    code: str = strawberry.field(description="The code, e.g. DE11 or T90.")
    display: str = strawberry.field(description="The Danish display text (betegnelse).")
    clinical_status: str | None = strawberry.field(description="Clinical status (e.g. active, resolved).")
    category: str | None = strawberry.field(description="encounter-diagnosis or problem-list-item.")
    onset: date | None = strawberry.field(
        description="When it began, when the source gave a date (a dateTime is its date in Denmark)."
    )
    recorded: date | None = strawberry.field(
        description="When it was recorded, when the source gave a date (a dateTime is its date in Denmark)."
    )
    onset_period: Period | None = strawberry.field(
        description=(
            "The dates the onset may lie in: one day for a date, the month or year for a partial date "
            "(2019-06 is 2019-06-01 to 2019-06-30), or the source's onset period; null when unknown or given "
            "only as an age or a text."
        )
    )
    recorded_period: Period | None = strawberry.field(
        description="The dates the recorded date may denote: one day, or the month or year of a partial date."
    )
    organisation: Organisation = protected_field(
        ProtectedDetail.PLACE, description="The organisation that recorded it."
    )
    source: str = strawberry.field(description="The plan source it came from.")

    @classmethod
    def from_record(cls, r: ConditionRecord) -> Diagnosis:
        return cls(
            cpr=r.cpr,
            id=strawberry.ID(r.id),
            code_system=r.code_system,
            code=r.code,
            display=r.display,
            clinical_status=r.clinical_status,
            category=r.category,
            onset=exact_day(r.onset),
            recorded=exact_day(r.recorded),
            onset_period=Period.of(r.onset),
            recorded_period=Period.of(r.recorded),
            organisation=Organisation.from_record(r.organisation),
            source=r.source,
        )


def keep_plan(plan: CarePlanRecord, item_filter: ItemFilter) -> CarePlanRecord | None:
    """The plan without interventions performed by blocked organisations; ``None`` if blocked itself."""
    if not item_filter.allows(plan.organisation.sor, plan.dated):
        return None
    kept = tuple(
        i
        for i in plan.interventions
        if i.performer is None or item_filter.allows(i.performer.sor, i.started or plan.dated)
    )
    if kept == plan.interventions:
        return plan
    return replace(plan, interventions=kept)


def keep_goal(goal: GoalRecord, item_filter: ItemFilter) -> GoalRecord | None:
    return goal if item_filter.allows(goal.organisation.sor, goal.dated) else None


def keep_condition(condition: ConditionRecord, item_filter: ItemFilter) -> ConditionRecord | None:
    return condition if item_filter.allows(condition.organisation.sor, condition.dated) else None


def newest_first(dated: PeriodRecord | None, *ident: str) -> Key:
    """A dated item's place in a newest-first list: by the first day it covers, latest first, undated last, then
    by ``ident`` (its source and ID)."""
    day = dated.start if dated is not None else None
    return (-(day.toordinal() if day else 0), *ident)


def _place(record: CarePlanRecord | GoalRecord | ConditionRecord) -> Key:
    return newest_first(record.dated, record.source, record.id)


PLACE = (int, str, str)
"""The shape of a position in these lists (:func:`_place`): the first day covered, the source, the ID."""
PLANS_CURSOR = Cursor("plans", PLACE)
GOALS_CURSOR = Cursor("goals", PLACE)
DIAGNOSES_CURSOR = Cursor("diagnoses", PLACE)


def care_plans(found: Gathered[CarePlanRecord], withheld: bool, first: int, after: str | None) -> Plans:
    """A page of the patient's plans, newest first."""
    shown = page(sorted(found.items, key=_place), first, after, cursor=PLANS_CURSOR, key=_place)
    return _sourced([CarePlan.from_record(r) for r in shown.items], shown, found, withheld)


def goals(found: Gathered[GoalRecord], withheld: bool, first: int, after: str | None) -> Goals:
    """A page of the patient's goals (overall goals and sub-goals alike), newest first; each with its sub-goals
    among every goal found, on this page or not."""
    records = sorted(found.items, key=_place)
    shown = page(records, first, after, cursor=GOALS_CURSOR, key=_place)
    made = {id(r): goal for r, goal in zip(records, Goal.tree(records), strict=True)}
    return _sourced([made[id(r)] for r in shown.items], shown, found, withheld)


def diagnoses(found: Gathered[ConditionRecord], withheld: bool, first: int, after: str | None) -> Diagnoses:
    """A page of the patient's diagnoses, newest first."""
    shown = page(sorted(found.items, key=_place), first, after, cursor=DIAGNOSES_CURSOR, key=_place)
    return _sourced([Diagnosis.from_record(r) for r in shown.items], shown, found, withheld)


def _sourced(nodes: list[NodeT], shown: Page[Any], found: Gathered[Any], withheld: bool) -> SourcedConnection[NodeT]:
    return SourcedConnection(
        nodes=nodes,
        page_info=shown.info,
        total=shown.total,
        withheld=withheld,
        complete=found.complete,
        sources=source_statuses(found.asked, found.errors),
    )


Plans: TypeAlias = SourcedConnection[CarePlan]
Goals: TypeAlias = SourcedConnection[Goal]
Diagnoses: TypeAlias = SourcedConnection[Diagnosis]
