"""Protection shows a place only when the SOR register says it is a region's unit (ADR 0012, issue 10).

The family: for every sector label an item may carry (an ``appointmentType``, an endpoint's configured
kind, none) and every answer the SOR register may give (a region, a municipality, a general practice,
no sector, not asked or unable to answer), an organisation or an appointment's place is shown to a
caller who gets placeholders only when the register says region **and** the label does not say
otherwise; its placeholder carries the register's sector when the register knows one. Only places a
label does not already hide are looked up.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from resolvers.appointments import AppointmentLocation
from resolvers.common import Organisation
from resolvers.protection import PROTECTED_PLACEHOLDER
from sources.clinical import OrganisationKind

PLACE = "378651000016004"
UNIT = "378641000016007"
labels = st.sampled_from([None, *OrganisationKind])
answers = st.sampled_from(["absent", None, *OrganisationKind])
REGION = OrganisationKind.REGION


def register(answer: object, sor: str) -> dict[str, OrganisationKind | None]:
    """The register's answer for ``sor`` as the loader hands it on (``absent``: not asked, or it failed)."""
    return {} if answer == "absent" else {sor: answer}  # type: ignore[dict-item]


@given(labels, answers)
def test_an_organisation_is_shown_only_when_the_register_says_region_and_its_label_agrees(
    label: OrganisationKind | None, answer: object
) -> None:
    organisation = Organisation(sor_id=PLACE, name="Lungemedicinsk Ambulatorium, AAUH", kind=label)
    sectors = register(answer, PLACE)

    shown = label in (None, REGION) and answer is REGION
    redacted = organisation.redacted(sectors)

    assert organisation.reveals(sectors) is not shown
    assert organisation.places() == (frozenset({PLACE}) if label in (None, REGION) else frozenset())
    if shown:
        assert redacted is organisation
    else:
        assert (redacted.name, redacted.sor_id) == (PROTECTED_PLACEHOLDER, None)
        assert redacted.kind == (answer if isinstance(answer, OrganisationKind) else label)


@given(labels, answers, answers, st.booleans(), st.booleans())
def test_a_place_is_shown_only_when_it_and_its_organisation_are_a_regions_units_by_the_register(
    label: OrganisationKind | None, for_organisation: object, for_place: object, at_home: bool, coded: bool
) -> None:
    organisation = Organisation(sor_id=UNIT, name="Nefrologisk Afdeling Y, OUH", kind=label)
    place = AppointmentLocation(
        name="Lokale 3", sor_id=PLACE if coded else None, address="J. B. Winsløws Vej 4", room="3", at_home=at_home,
        organisation=organisation,
    )  # fmt: skip
    sectors = {**register(for_organisation, UNIT), **register(for_place, PLACE)}

    shown = not at_home and coded and label in (None, REGION) and for_organisation is REGION and for_place is REGION
    redacted = place.redacted(sectors)

    assert place.reveals(sectors) is not shown
    assert (redacted.address is None) is not shown
    assert redacted.at_home is at_home
    if not at_home and coded and label in (None, REGION):
        assert place.places() == {UNIT, PLACE}
    else:
        assert place.places() == frozenset()


def test_a_place_whose_organisation_is_not_known_is_hidden() -> None:
    place = AppointmentLocation(name="X", sor_id=PLACE, address="Y", room=None, at_home=False)

    assert place.reveals({PLACE: REGION}) and place.places() == frozenset()
