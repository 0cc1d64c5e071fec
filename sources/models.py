"""Source-neutral records: the language of the adapters' ports.

Adapters parse upstream payloads into these frozen dataclasses; nothing above ``sources/`` ever sees
an upstream field name. Identifiers are plain strings validated at the edges (CPR: 10 digits,
ydernummer: up to 6 digits, SOR: 11+ digits, autorisations-ID: 5 characters).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from sources.errors import SourceError
from sources.identifiers import normalise_authorization_id


class Sex(StrEnum):
    """Sex as registered in CPR (KOEN M/K)."""

    MALE = "male"
    FEMALE = "female"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class AddressRecord:
    """A postal address (folkeregisteradresse or a temporary address).

    CPR may give only a line: a person without a fixed address (status 03, "Uden fast bopæl") has no
    postal code or city.
    """

    line: str
    postal_code: str | None
    city: str | None
    municipality_code: str | None = None


@dataclass(frozen=True, slots=True)
class PersonRecord:
    """A person from CPR (Det Centrale Personregister)."""

    cpr: str
    given_name: str
    family_name: str
    sex: Sex
    birth_date: date | None
    status: str
    """CPR status code, two digits (01 active … 80 emigrated, 90 dead)."""
    status_date: date | None
    address: AddressRecord | None
    protected: bool
    """Name and address protection (navne- og adressebeskyttelse) in force."""
    civil_status: str | None = None
    replaced_by: str | None = None
    """The current CPR number when this one was changed (PNRGAELD)."""
    custody_holders: tuple[str, ...] = ()
    """CPR numbers of those with parental custody (forældremyndighed)."""
    guardians: tuple[str, ...] = ()
    """CPR numbers of appointed guardians (værger)."""


@dataclass(frozen=True, slots=True)
class GpAssignmentRecord:
    """The patient's entry in the Sikrede register: chosen GP and health-insurance group."""

    cpr: str
    ydernummer: str | None
    insurance_group: int


@dataclass(frozen=True, slots=True)
class DoctorRecord:
    """A doctor working at a practice (yderperson)."""

    name: str
    authorization_id: str | None = None


@dataclass(frozen=True, slots=True)
class PracticeRecord:
    """A general practice (yder) from the Yderregister."""

    ydernummer: str
    sor: str | None
    name: str
    address: AddressRecord | None
    phone: str | None
    doctors: tuple[DoctorRecord, ...] = ()
    problems: tuple[SourceError, ...] = field(default=(), compare=False)
    """What the register sent for this practice that could not be used (a doctor without a name); the
    practice is shown without it, and the problems are reported."""


@dataclass(frozen=True, slots=True)
class TemporaryAddressRecord:
    """The one temporary address a master card may hold, with an optional end date."""

    address: AddressRecord
    end_date: date | None


@dataclass(frozen=True, slots=True)
class RelativeRecord:
    """A relative (pårørende) on the master card: first name required, the rest optional."""

    first_name: str
    surname: str | None = None
    phone: str | None = None
    relation: str | None = None


@dataclass(frozen=True, slots=True)
class MasterCardRecord:
    """The patient's Fælles Stamkort: contact data the citizen maintains."""

    cpr: str
    version: str
    phone: str | None = None
    temporary_address: TemporaryAddressRecord | None = None
    dentist: str | None = None
    preferred_language: str | None = None
    relatives: tuple[RelativeRecord, ...] = ()
    problems: tuple[SourceError, ...] = field(default=(), compare=False)
    """What the register sent for this card that could not be used (a relative without a first name);
    the card is shown without it, and the problems are reported."""


@dataclass(frozen=True, slots=True)
class RegistrationsRecord:
    """Whether the patient has registrations in the will and donor registers."""

    cpr: str
    treatment_will: bool
    living_will: bool
    organ_donor: bool
    resuscitation_opt_out: bool


class BlockKind(StrEnum):
    """What a Min Spærring block is against."""

    PROFESSIONAL = "professional"
    ORGANISATION = "organisation"
    DATA_PERIOD = "data_period"


@dataclass(frozen=True, slots=True)
class PeriodRecord:
    """A closed or open period of dates."""

    start: date | None = None
    end: date | None = None

    def contains(self, day: date) -> bool:
        """Whether ``day`` falls inside the period (both ends inclusive)."""
        return (self.start is None or self.start <= day) and (self.end is None or day <= self.end)

    def overlaps(self, other: PeriodRecord) -> bool:
        """Whether the two periods share a day (an open end reaches forever)."""
        return (self.start is None or other.end is None or self.start <= other.end) and (
            self.end is None or other.start is None or other.start <= self.end
        )


@dataclass(frozen=True, slots=True)
class BlockRecord:
    """A citizen's block (negativt samtykke) from the consent service."""

    id: str
    cpr: str
    kind: BlockKind
    validity: PeriodRecord = field(default_factory=PeriodRecord)
    authorization_id: str | None = None
    organisation_sor: str | None = None
    include_subunits: bool = False
    data_period: PeriodRecord | None = None
    unmatchable: bool = False
    """The consent service holds this block, but whom it is against cannot be told with certainty (an
    identifier that is not one, an unknown identifier system, a consent that cannot be read): it
    applies to every professional (a ``PROFESSIONAL`` block) or every organisation (an
    ``ORGANISATION`` block). Fail closed, never open."""

    def names_professional(self, authorization_id: str | None) -> bool:
        """Whether this is a block on the professional ``authorization_id`` (both sides in normal form).

        An unmatchable professional block names every professional.
        """
        if self.kind is not BlockKind.PROFESSIONAL:
            return False
        if self.unmatchable:
            return True
        mine = normalise_authorization_id(self.authorization_id)
        return mine is not None and mine == normalise_authorization_id(authorization_id)


@dataclass(frozen=True, slots=True)
class RelationQuery:
    """A question to the treatment-relation service: professional at a place, about a patient."""

    cpr: str
    authorization_id: str
    organisation_sor: str | None


@dataclass(frozen=True, slots=True)
class TreatmentRelationRecord:
    """The answer to a :class:`RelationQuery`."""

    query: RelationQuery
    has_relation: bool
    kinds: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PowerOfAttorneyRecord:
    """A digital power of attorney (digital fuldmagt): ``holder`` may act for ``giver`` within ``scopes``."""

    id: str
    giver_cpr: str
    holder_cpr: str
    scopes: frozenset[str]
    """What the holder may do: ``overview`` (read the overview), ``master_card`` (read and edit the
    Fælles Stamkort), ``access_log`` (read Min Log), ``blocks`` (read and manage Min Spærring)."""
    validity: PeriodRecord = field(default_factory=PeriodRecord)


class TreatmentWillSituation(StrEnum):
    """A situation a treatment will (behandlingstestamente) covers (sundhedsloven §26)."""

    TERMINAL = "terminal"
    """Uafvendeligt døende: the patient is irreversibly dying."""
    SEVERE_ILLNESS = "severe_illness"
    """Illness, accident or the like has left the patient permanently unable to care for themselves."""
    DEMENTIA = "dementia"
    """Advanced dementia or the like, where treatment would need force (tvang)."""


class OrganDonorDecision(StrEnum):
    """A decision in the Organdonorregister."""

    FULL = "FULL"
    """Fuld tilladelse: every organ may be used."""
    FULL_SUBJECT_TO_FAMILY = "FULL_SUBJECT_TO_FAMILY"
    """Fuld tilladelse with pårørendes accept: the family has the last word."""
    LIMITED = "LIMITED"
    """Begrænset tilladelse: only the listed organs."""
    LIMITED_SUBJECT_TO_FAMILY = "LIMITED_SUBJECT_TO_FAMILY"
    """Begrænset tilladelse with pårørendes accept."""
    PROHIBITION = "PROHIBITION"
    """Forbud: no organ may be used."""
    UNDECIDED = "UNDECIDED"
    """Ved ikke: the family decides."""


class Organ(StrEnum):
    """An organ a limited donor permission can list."""

    HEART = "heart"
    LUNGS = "lungs"
    LIVER = "liver"
    KIDNEYS = "kidneys"
    PANCREAS = "pancreas"
    SMALL_INTESTINE = "small_intestine"
    CORNEAS = "corneas"
    SKIN = "skin"


@dataclass(frozen=True, slots=True)
class TreatmentWillRecord:
    """A registered treatment will (behandlingstestamente, since 2019)."""

    registered: date
    situations: tuple[TreatmentWillSituation, ...]


@dataclass(frozen=True, slots=True)
class LivingWillRecord:
    """A registered living will (livstestamente, before 2019; still valid)."""

    registered: date


@dataclass(frozen=True, slots=True)
class OrganDonorRecord:
    """A decision in the Organdonorregister; ``organs`` only for a limited permission."""

    decision: OrganDonorDecision
    registered: date
    organs: tuple[Organ, ...] = ()


@dataclass(frozen=True, slots=True)
class ResuscitationOptOutRecord:
    """A registered opt-out of resuscitation at cardiac arrest (fravalg af genoplivningsforsøg)."""

    registered: date


@dataclass(frozen=True, slots=True)
class RegisterDetailsRecord:
    """The content of the patient's will, donor and resuscitation registrations (``None``: not registered).

    Only the citizen and their representatives see this; professionals see :class:`RegistrationsRecord`.
    """

    cpr: str
    treatment_will: TreatmentWillRecord | None = None
    living_will: LivingWillRecord | None = None
    organ_donor: OrganDonorRecord | None = None
    resuscitation_opt_out: ResuscitationOptOutRecord | None = None
