"""The sector of a place, as the SOR register says: what name and address protection decides a place by.

A region's unit (a hospital) tells no more than the region, so protection shows it; a general
practice or a municipality's unit serves where the patient lives, so protection hides it (ADR 0012).
Which of the two a place is comes from the **SOR register** (``SorSource.sectors_of``), never from
the item: an appointment's ``appointmentType`` (``RegionalAppointment``, or ``"PractitionerAppointment "``
with a stray space), the kind an endpoint is configured with, or a plan source's sector are labels
the source chose, and a region's endpoint serving a municipal unit's visit must not show it.

A place is shown only when the register says it is a region's unit **and** the item's own label does
not say otherwise; when the register does not know the code, cannot be asked, or disagrees with the
label, it is hidden (fail closed). Only the places of a protected patient's fields, for a caller who
gets placeholders, are looked up, and only those a label does not already hide: through the request's
``sectors`` loader (one register search per batch of fields resolving together, every code once per
request), over the register's cache of reference data (ADR 0014).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Set
from typing import TypeAlias

from resolvers.context import Info, report
from sources.clinical import OrganisationKind
from sources.errors import SourceError
from sources.identifiers import normalise_sor

Sectors: TypeAlias = Mapping[str, OrganisationKind | None]
"""SOR code → the sector the register gives it (``None``: it gives none)."""
NO_SECTORS: Sectors = {}


def may_show(label: OrganisationKind | None) -> bool:
    """Whether a place so labelled could be shown at all (a label other than a region's already hides it)."""
    return label in (None, OrganisationKind.REGION)


def region_unit(sor: str | None, label: OrganisationKind | None, sectors: Sectors) -> bool:
    """Whether the place ``sor`` is a region's unit by the register's word, and its label agrees."""
    return sor is not None and may_show(label) and sectors.get(sor) is OrganisationKind.REGION


async def sectors_of(info: Info, sors: Set[str]) -> Sectors:
    """The register's sector for each of ``sors``; none known when it cannot answer (reported once per request)."""
    if not sors:
        return NO_SECTORS
    wanted = sorted(sor for sor in sors if normalise_sor(sor) == sor)  # anything else has no known sector
    loader = info.context.loaders.sectors
    found = await asyncio.gather(*(loader.get(sor) for sor in wanted), return_exceptions=True)
    for value in found:
        if isinstance(value, BaseException) and not isinstance(value, SourceError):
            raise value
    failed = [value for value in found if isinstance(value, SourceError)]
    if failed and not info.context.protections.sectors_reported:
        info.context.protections.sectors_reported = True
        report(info, failed[:1])
    return {sor: value for sor, value in zip(wanted, found, strict=True) if isinstance(value, OrganisationKind)}
