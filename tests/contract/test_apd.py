"""Parsing MedCom APD-DK 2.0.1 appointment documents: the test-protocol scenarios and hostile input.

Fixtures in ``fixtures/apd/`` are synthetic documents shaped after the MedCom APD-DK 2.0.1 test
protocol examples (MedCom's published test person Nancy Ann Test Berggren, sandbox SOR codes).
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from sources.apd import ApdHostileDocument, ApdParseError, newest_per_appointment, parse_apd
from sources.clinical import AppointmentStatus, CodingRecord, LocationRecord, OrganisationKind, OrganisationRef

CPH = ZoneInfo("Europe/Copenhagen")
CPR = "2512489996"
NOW = datetime(2030, 1, 15, 12, 0, tzinfo=UTC)
FIXTURES = Path(__file__).parent / "fixtures" / "apd"


def _fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def _variant(name: str, *replacements: tuple[str, str]) -> bytes:
    text = _fixture(name).decode()
    for old, new in replacements:
        assert old in text
        text = text.replace(old, new)
    return text.encode()


def _parse(data: bytes, now: datetime = NOW):
    return parse_apd(data, source="dds", now=now)


def test_municipal_minimum_content():
    document = _parse(_fixture("municipal_minimum.xml"))
    appointment = document.appointment

    assert appointment.id == "b6a1f3c2-7d4e-4f5a-8b9c-0d1e2f3a4b5c"
    assert appointment.cpr == CPR
    assert appointment.source == "dds"
    assert appointment.version == 1
    assert document.set_id is None
    assert appointment.organisation == OrganisationRef(
        "359011000016007", "Hjemmeplejen Odense Syd", OrganisationKind.MUNICIPALITY
    )
    assert appointment.status is AppointmentStatus.BOOKED
    assert appointment.start == datetime(2030, 12, 31, 23, 59, tzinfo=CPH)
    assert appointment.end is None
    assert not appointment.all_day
    assert not appointment.indicative
    assert appointment.location == LocationRecord(name="Borgers Hjemmeadresse", at_home=True)
    assert appointment.reason == CodingRecord(
        "http://terminology.hl7.org/CodeSystem/v3-NullFlavor", "NI", "Visitationsbesøg"
    )
    assert appointment.title == "Visitationsbesøg"
    assert appointment.updated == datetime(2030, 12, 29, 9, 58, tzinfo=CPH)


def test_a_past_appointment_is_fulfilled():
    after = datetime(2031, 1, 2, tzinfo=UTC)

    assert _parse(_fixture("municipal_minimum.xml"), now=after).appointment.status is AppointmentStatus.FULFILLED
    assert _parse(_fixture("region.xml"), now=after).appointment.status is AppointmentStatus.FULFILLED


def test_an_indicative_future_time_at_the_citizens_home():
    document = _parse(_fixture("municipal_morning_home.xml"))
    appointment = document.appointment

    assert appointment.indicative
    assert appointment.time_note == "Morgen aftale \N{EN DASH} tidspunktet er vejledende"
    assert appointment.status is AppointmentStatus.BOOKED
    assert (appointment.start, appointment.end) == (
        datetime(2030, 3, 10, 7, 0, tzinfo=CPH),
        datetime(2030, 3, 10, 9, 0, tzinfo=CPH),
    )
    assert appointment.location == LocationRecord(
        name="Borgers Hjemmeadresse", address="Testvej 12, 5230 Odense M", at_home=True
    )
    assert appointment.reason == CodingRecord(
        "http://terminology.hl7.org/CodeSystem/v3-NullFlavor", "NI", "Hjemmehjælp"
    )
    assert appointment.title == "Hjemmehjælpsbesøg"
    assert document.repeating_id == "5e2b7c11-3f0a-4d2b-9c61-7a8b9c0d1e2f"
    assert document.set_id == "1d2c3b4a-5e6f-4a7b-8c9d-0e1f2a3b4c00"


def test_two_appointments_with_the_same_repeating_id_are_both_kept():
    first = _parse(_fixture("municipal_morning_home.xml"))
    second = _parse(
        _variant(
            "municipal_morning_home.xml",
            ("337de2f3-a3f4-4fac-b0ab-5f6c69839a01", "337de2f3-a3f4-4fac-b0ab-5f6c69839a02"),
            ("20300310", "20300317"),
        )
    )

    kept = newest_per_appointment([first.appointment, second.appointment])

    assert first.repeating_id == second.repeating_id
    assert sorted(a.start.day for a in kept) == [10, 17]


def test_two_documents_with_the_same_appointment_id_the_newest_version_wins():
    first = _parse(_fixture("municipal_morning_home.xml"))
    moved = _parse(
        _variant(
            "municipal_morning_home.xml",
            ('<versionNumber value="1"/>', '<versionNumber value="2"/>'),
            ("1d2c3b4a-5e6f-4a7b-8c9d-0e1f2a3b4c01", "1d2c3b4a-5e6f-4a7b-8c9d-0e1f2a3b4c02"),
            ("20300310", "20300311"),
        )
    )

    kept = newest_per_appointment([moved.appointment, first.appointment])

    assert moved.appointment.id == first.appointment.id
    assert moved.set_id == first.set_id
    assert [(a.version, a.start.day) for a in kept] == [(2, 11)]


def test_a_region_appointment_with_a_sor_location_and_a_room():
    appointment = _parse(_fixture("region.xml")).appointment

    assert appointment.organisation == OrganisationRef(
        "378641000016007", "Nefrologisk Afdeling Y, OUH", OrganisationKind.REGION
    )
    assert appointment.start == datetime(2030, 5, 4, 9, 30, tzinfo=CPH)
    assert appointment.start.tzinfo is UTC  # instants are kept in UTC inside, localised at the edge
    assert appointment.end == datetime(2030, 5, 4, 10, 15, tzinfo=CPH)
    assert appointment.location == LocationRecord(
        sor="378641000016007", address="J. B. Winsløws Vej 4, 5000 Odense C", room="opgang 4, 3 sal rum 101"
    )
    assert appointment.reason == CodingRecord(
        "http://snomed.info/sct", "17436001", "Lægekonsultation med ambulant patient"
    )
    assert appointment.title == "Kontrol af nyrefunktion"


def test_a_region_all_day_appointment_at_midnight_without_an_end():
    appointment = _parse(_fixture("region_all_day.xml")).appointment

    assert appointment.all_day
    assert appointment.start == datetime(2030, 12, 1, tzinfo=CPH)
    assert appointment.end == datetime(2030, 12, 2, tzinfo=CPH)
    assert appointment.indicative
    assert appointment.time_note == "Der er ikke afsat et bestemt tidspunkt for undersøgelsen"


def test_a_date_only_appointment_is_all_day_from_local_midnight_through_its_last_day():
    data = _variant(
        "region_all_day.xml",
        ('<low value="20301201000000+0100"/>', '<low value="20300629"/>'),
        ('<high nullFlavor="NI"/>', '<high value="20300630"/>'),
    )

    appointment = _parse(data).appointment

    assert appointment.all_day
    assert appointment.start == datetime(2030, 6, 29, tzinfo=CPH)
    assert appointment.start.utcoffset() is not None
    assert appointment.end == datetime(2030, 7, 1, tzinfo=CPH)


def test_a_region_appointment_over_several_days_crosses_summer_time():
    appointment = _parse(_fixture("region_days.xml"), now=datetime(2031, 3, 20, tzinfo=UTC)).appointment

    assert not appointment.all_day
    assert appointment.start == datetime(2031, 3, 12, 12, 0, tzinfo=CPH)
    assert appointment.end == datetime(2031, 3, 31, 12, 0, tzinfo=CPH)
    assert appointment.end.date() > appointment.start.date()
    assert appointment.end - appointment.start == timedelta(days=19, hours=-1)  # 19 local days, one hour shorter
    assert appointment.start.tzinfo is appointment.end.tzinfo is UTC
    assert appointment.status is AppointmentStatus.BOOKED
    assert appointment.title == "Indlæggelse"


def test_utc_times_are_the_same_instants_as_danish_local_time():
    data = _variant("region.xml", ("20300504093000+0200", "20300504073000+0000"))

    appointment = _parse(data).appointment

    assert appointment.start == datetime(2030, 5, 4, 9, 30, tzinfo=CPH)
    assert appointment.day.isoformat() == "2030-05-04"


def test_a_cancelled_appointment():
    data = _variant("region.xml", ('<statusCode code="active"/>', '<statusCode code="cancelled"/>'))

    assert _parse(data).appointment.status is AppointmentStatus.CANCELLED


def test_newest_prefers_the_later_document_time_for_the_same_version():
    base = _parse(_fixture("region.xml")).appointment
    later = dataclasses.replace(base, title="later", updated=datetime(2030, 4, 2, tzinfo=CPH))

    assert newest_per_appointment([later, base]) == [later]


_XXE = b"""<?xml version="1.0"?>
<!DOCTYPE ClinicalDocument [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<ClinicalDocument xmlns="urn:hl7-org:v3"><title>&xxe;</title></ClinicalDocument>"""

_BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<ClinicalDocument xmlns="urn:hl7-org:v3"><title>&lol4;</title></ClinicalDocument>"""

_EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE ClinicalDocument SYSTEM "http://attacker.example/cda.dtd">
<ClinicalDocument xmlns="urn:hl7-org:v3"/>"""


@pytest.mark.parametrize(
    "data",
    [
        _XXE,
        _BILLION_LAUGHS,
        _EXTERNAL_DTD,
        _fixture("region.xml").replace(b"<ClinicalDocument", b"<!DOCTYPE ClinicalDocument>\n<ClinicalDocument", 1),
    ],
    ids=["xxe-external-entity", "billion-laughs", "external-dtd", "dtd-on-a-valid-document"],
)
def test_hostile_documents_are_rejected_never_parsed(data: bytes):
    with pytest.raises(ApdHostileDocument):
        _parse(data)


@pytest.mark.parametrize(
    "data",
    [
        b"this is not XML",
        b"",
        b"<html><body>oops</body></html>",
        b'<ClinicalDocument xmlns="urn:other"/>',
        _variant("region.xml", ('root="1.2.208.184.14.1"', 'root="1.2.208.184.9.9"')),
        _variant("region.xml", ("<entry>", "<!--"), ("</entry>", "-->")),
        _variant("region.xml", ('moodCode="APT"', 'moodCode="EVN"')),
        _variant("region.xml", ("20300504093000+0200", "20300504093000")),
        _variant("region.xml", ("8d066360-8069-4647-ad54-2290ac503101", "not-a-uuid")),
        _variant("region.xml", ('extension="2512489996"', 'extension="25124899"')),
        _variant("region.xml", ('<statusCode code="active"/>', '<statusCode code="held"/>')),
        _variant("region.xml", ("<name>Nefrologisk Afdeling Y, OUH</name>", "")),
        _variant("region.xml", ('<versionNumber value="1"/>', '<versionNumber value="x"/>')),
        _variant("region.xml", ("20300504101500+0200", "20300504081500+0200")),
        _variant("region.xml", ("20300504093000+0200", "20301304093000+0200")),
        b" " * (600 * 1024),
    ],
    ids=[
        "not-xml",
        "empty",
        "wrong-root",
        "wrong-namespace",
        "not-apd-template",
        "no-encounter",
        "not-an-appointment-mood",
        "time-without-offset",
        "id-not-a-uuid",
        "no-cpr",
        "unknown-status",
        "performer-without-name",
        "bad-version",
        "ends-before-start",
        "impossible-date",
        "too-large",
    ],
)
def test_unusable_documents_are_rejected(data: bytes):
    with pytest.raises(ApdParseError) as caught:
        _parse(data)

    assert CPR not in str(caught.value)
    assert not isinstance(caught.value, ApdHostileDocument)


def test_the_night_the_clocks_go_back_a_45_minute_visit_is_kept():
    data = _variant(
        "region.xml",
        ("20300504093000+0200", "20261025023000+0200"),
        ("20300504101500+0200", "20261025021500+0100"),
    )

    appointment = _parse(data, now=datetime(2026, 10, 1, tzinfo=UTC)).appointment

    assert appointment.end is not None
    assert appointment.end - appointment.start == timedelta(minutes=45)
    assert appointment.start == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    assert appointment.day.isoformat() == "2026-10-25"
