"""Name and address protection (navne- og adressebeskyttelse): decided once per patient, applied to every field.

CPR's rule (domain.md §1.1, §2 rule 8): a protected person's name and address go only to callers
whitelisted as authorities; everyone else gets ``ADRESSEBESKYTTET``. The gateway shows them to the
person, their guardians and fuldmagt holders and to clients registered as authorities
(``sees_protected`` in the access plan, ADR 0006); professionals, assistants, other vendor systems
and parents with custody get placeholders (ADR 0012). What the placeholders hide is wider than CPR's
own fields: anything of the patient's data that says where they live, or how to reach them or their
relatives, wherever it sits in the schema.

- **Declaring.** A type whose values carry such a detail says so with the ``@protectedDetail`` schema
  directive on the type: its :class:`ProtectedDetail` and the fields it ``kept`` because they reveal
  nothing. A field of another type that *is* such a detail (a phone number, a dentist) or that
  *returns* such a type carries the directive on the field and the :class:`RedactProtected` field
  extension: :func:`protected_field` gives both. ``tests/resolvers/test_protected_fields.py`` walks the
  schema and fails for a field that is not covered.
- **Deciding.** :func:`hides_protected` (over :func:`protection_lookup` and :func:`protected`) decides
  once per patient and request, from the access plan and the CPR record the request loads anyway (the
  gate's own lookup or the ``persons`` loader: one batched CPR request for every patient); a caller
  who sees protected data causes no lookup at all. When CPR cannot answer, or answers without the
  patient, the patient is treated as protected (fail closed) and the error is reported once.
  Master-card writes use the same decision.
- **Redacting.** :meth:`Redactable.redacted` gives a value's placeholder form: text that must be there
  becomes ``ADRESSEBESKYTTET``, what may be null becomes null, lists become empty, and the ``kept``
  fields stay; a value that reveals nothing (:meth:`Redactable.reveals`: a hospital, by the SOR
  register's word, :mod:`resolvers.sectors`) stays as it is. A connection (:mod:`resolvers.paging`) is
  redacted where it is returned, node by node; a type that pages what it holds redacts that by hand.
"""

from __future__ import annotations

import asyncio
import copy
import inspect
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Self, TypeAlias

import strawberry
from strawberry.extensions import FieldExtension
from strawberry.schema_directive import Location
from strawberry.types.base import StrawberryOptional, get_object_definition
from strawberry.types.field import StrawberryField
from strawberry.types.private import is_private
from strawberry.utils.str_converters import to_camel_case

from resolvers.context import Info, plan_of, report
from resolvers.sectors import NO_SECTORS, Sectors, sectors_of
from sources.errors import SourceError, SourceIncomplete
from sources.models import PersonRecord

PROTECTED_PLACEHOLDER = "ADRESSEBESKYTTET"
"""What the national CPR service shows instead of a protected name or address."""


@strawberry.enum(description="What kind of detail name and address protection (navne- og adressebeskyttelse) hides.")
class ProtectedDetail(Enum):
    NAME = strawberry.enum_value("NAME", description="The patient's name and what identifies them in CPR.")
    ADDRESS = strawberry.enum_value("ADDRESS", description="An address where the patient lives or stays.")
    PLACE = strawberry.enum_value(
        "PLACE",
        description=(
            "A place that reveals where the patient lives: their home, their own GP practice, their "
            "municipality's services, their dentist, the people and places that acted on their data."
        ),
    )
    CONTACT = strawberry.enum_value(
        "CONTACT", description="How to reach the patient or their relatives: names and phone numbers."
    )


@strawberry.schema_directive(
    locations=[Location.OBJECT, Location.FIELD_DEFINITION],
    name="protectedDetail",
    description=(
        "Name and address protection hides this for a protected patient from callers other than the patient, "
        "their guardians and fuldmagt holders, and authorities: on a type, its values carry the detail (the "
        "`kept` fields stay); on a field, the field shows placeholders (`ADRESSEBESKYTTET`, null or an empty list)."
    ),
)
class ProtectedDetailDirective:
    detail: ProtectedDetail
    kept: list[str] | None = strawberry.UNSET
    """GraphQL names of a type's fields that reveal nothing and stay as they are (unset on a field)."""


def protects(detail: ProtectedDetail, *, kept: Sequence[str] = ()) -> ProtectedDetailDirective:
    """The directive a type carries when its values hold ``detail``; ``kept`` names fields that stay."""
    return ProtectedDetailDirective(detail=detail, kept=list(kept))


def protected_field(detail: ProtectedDetail, *, description: str, directives: Sequence[object] = ()) -> Any:
    """A field redacted for protected patients: the ``@protectedDetail`` directive and :class:`RedactProtected`.

    Use it as ``strawberry.field`` is used, for a data field or as a resolver's decorator. The type the
    field is declared on must hold the patient's CPR number as ``cpr``.
    """
    return strawberry.field(
        description=description,
        directives=[*directives, ProtectedDetailDirective(detail=detail)],
        extensions=[RedactProtected()],
    )


class Redactable:
    """A strawberry type whose values carry protected details, with their placeholder form.

    The type declares :func:`protects` among its directives. :meth:`redacted` blanks every field the
    directive does not keep: required text becomes :data:`PROTECTED_PLACEHOLDER`, a nullable field
    null, a list empty; fields computed by a resolver follow from the blanked ones. A type whose
    values need another form overrides :meth:`redacted`.
    """

    def places(self) -> frozenset[str]:
        """SOR codes of places whose sector in the SOR register decides whether this value reveals (default: none).

        Only codes whose answer could let the value be shown: a place already hidden by its label is not
        looked up (:mod:`resolvers.sectors`).
        """
        return frozenset()

    def reveals(self, sectors: Sectors = NO_SECTORS) -> bool:
        """Whether this value says where a protected patient lives or how to reach them (default: yes).

        ``sectors`` holds the SOR register's sector of each of :meth:`places`.
        """
        return True

    def holds_nothing(self) -> bool:
        """Whether there is nothing to redact (an empty page): then nothing is looked up (default: no)."""
        return False

    def redacted(self, sectors: Sectors = NO_SECTORS) -> Self:
        """This value as a caller who gets placeholders sees it (itself when it reveals nothing)."""
        if not self.reveals(sectors):
            return self
        definition = get_object_definition(self, strict=True)
        kept = kept_fields(type(self))
        clone = copy.copy(self)
        for spec in definition.fields:
            name = spec.python_name
            if is_private(spec.type) or spec.base_resolver is not None or graphql_name(spec) in kept:
                continue
            setattr(clone, name, _blank(getattr(self, name), isinstance(spec.type, StrawberryOptional), name))
        return clone


def graphql_name(spec: StrawberryField) -> str:
    """A field's name in the schema (the schema converts names to camel case)."""
    return spec.graphql_name or to_camel_case(spec.python_name)


def kept_fields(cls: type) -> frozenset[str]:
    """The GraphQL names of the fields a protected type keeps, from its ``@protectedDetail`` directive."""
    definition = get_object_definition(cls, strict=True)
    found = [d for d in definition.directives or () if isinstance(d, ProtectedDetailDirective)]
    if not found:
        raise TypeError(f"{definition.name} redacts values but does not declare @protectedDetail")
    return frozenset(found[0].kept or ())


def _blank(value: object, nullable: bool, name: str) -> object:
    if value is None or nullable:
        return None
    if isinstance(value, str):
        return PROTECTED_PLACEHOLDER
    if isinstance(value, list):
        return []
    raise TypeError(f"field {name} can be neither blanked nor nulled: keep it, or redact the type by hand")


def places(value: object) -> frozenset[str]:
    """Every SOR code whose sector decides how ``value`` (a value or a list of them) is redacted."""
    if isinstance(value, Redactable):
        return value.places()
    if isinstance(value, list):
        return frozenset().union(*(places(item) for item in value))
    return frozenset()


def redact(value: object, sectors: Sectors = NO_SECTORS) -> object:
    """The placeholder form of what a protected field returned: a value, a list of them, or text."""
    if isinstance(value, Redactable):
        return value.redacted(sectors)
    if isinstance(value, list):
        return [redact(item, sectors) for item in value]
    if isinstance(value, str):
        return PROTECTED_PLACEHOLDER
    raise TypeError("a protected field returned a value that cannot be redacted")


class RedactProtected(FieldExtension):
    """Return the placeholder form of the field's value when the patient's protection says so.

    The patient is the ``cpr`` of the object the field is declared on. Nothing is looked up for a
    caller who sees protected data, nor for a field that resolved to nothing; the SOR register is asked
    only for the places of a value that gets placeholders (:mod:`resolvers.sectors`).
    """

    async def resolve_async(self, next_: Callable[..., Awaitable[Any]], source: Any, info: Info, **kwargs: Any) -> Any:
        cpr = getattr(source, "cpr", None)
        if not isinstance(cpr, str):
            raise RuntimeError("a protected field is declared on a type that does not name its patient")
        value = next_(source, info, **kwargs)
        if inspect.isawaitable(value):
            value = await value
        if value is None or (isinstance(value, list) and not value):
            return value
        if isinstance(value, Redactable) and value.holds_nothing():
            return value
        if not await hides_protected(info, cpr):
            return value
        return redact(value, await sectors_of(info, places(value)))


async def hides_protected(info: Info, cpr: str) -> bool:
    """Whether this caller gets placeholders for patient ``cpr``'s protected details (one decision per patient)."""
    if not plan_of(info).redact_protected(cpr):
        return False
    lookup = protection_lookup(info, cpr)
    if lookup is None:  # the plan lets the caller see nothing of this patient: nothing to look up, fail closed
        return True
    return protected(info, cpr, await lookup)


Lookup: TypeAlias = "asyncio.Future[PersonRecord | SourceError | None]"
"""One patient's CPR record (or why CPR could not give it), shared by every field that asks."""


@dataclass
class Protections:
    """The request's protection decisions: one CPR lookup per patient, shared by every field that asks."""

    looked_up: dict[str, Lookup] = field(default_factory=dict)
    reported: set[str] = field(default_factory=set)
    """Patients whose failed lookup was reported already."""
    sectors_reported: bool = False
    """A failed SOR register lookup of places was reported already (once per request)."""


def protection_lookup(info: Info, cpr: str) -> Lookup | None:
    """The lookup deciding patient ``cpr``'s protection for a caller the plan redacts for.

    Decided once per patient and request: the first to ask starts the lookup of every patient the
    plan redacts for and lets the caller see something of (:meth:`~resolvers.context.AccessReader.
    redacted_patients`), through the request's batched ``persons`` loader (shared with ``person``, which
    asks first, and primed with the gate's own lookup), so a request makes at most one CPR request for
    protection; every later field shares it. ``None`` for a patient of whom the caller may see nothing
    (nothing is looked up for them).
    """
    plan = plan_of(info)
    redacted = plan.redacted_patients()
    if cpr not in redacted:
        return None
    memo = info.context.protections
    if cpr not in memo.looked_up:
        for patient in sorted(redacted - memo.looked_up.keys()):
            memo.looked_up[patient] = asyncio.ensure_future(_look_up(info, patient))
    return memo.looked_up[cpr]


def protected(info: Info, cpr: str, found: PersonRecord | SourceError | None) -> bool:
    """Whether the looked-up patient gets placeholders: CPR marks them protected, or CPR could not tell.

    When CPR failed, or answered without the patient (a 200 that left them out, a number it does not
    know), the patient is treated as protected (fail closed) and the error is reported once per patient,
    at the first field that asked: ``SOURCE_INCOMPLETE`` for ``cpr`` when it left them out.
    """
    if found is None:
        found = SourceIncomplete("cpr", "CPR did not answer for the patient")
    if isinstance(found, SourceError):
        if cpr not in info.context.protections.reported:
            info.context.protections.reported.add(cpr)
            report(info, [found])
        return True
    return found.protected


async def _look_up(info: Info, cpr: str) -> PersonRecord | SourceError | None:
    try:
        return await info.context.loaders.persons.get(cpr)
    except SourceError as error:
        return error
