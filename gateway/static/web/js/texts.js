// Danish words for the schema's enums and error codes: one place, so a new enum value shows up as
// its own name (never a blank) until it gets a word here.

const words = {
  OrganisationKind: { REGION: "Hospital", MUNICIPALITY: "Kommune", GP: "Egen læge" },
  AppointmentStatus: {
    PROPOSED: "Foreslået",
    PENDING: "Afventer bekræftelse",
    BOOKED: "Aftalt",
    ARRIVED: "Mødt",
    FULFILLED: "Afholdt",
    CANCELLED: "Aflyst",
    NOSHOW: "Udeblevet",
    ENTERED_IN_ERROR: "Fejlregistreret",
    CHECKED_IN: "Tjekket ind",
    WAITLIST: "På venteliste",
  },
  GoalKind: { LIFE: "Livsmål", DISEASE: "Sygdomsspecifikke mål", FUNCTIONAL: "Funktionsmål" },
  DiagnosisCodeSystem: {
    SKS: "SKS",
    ICPC2: "ICPC-2",
    FSIII: "Fælles Sprog III",
    FFB: "Fælles Faglige Begreber",
    SNOMED: "SNOMED CT",
    OTHER: "Andet kodesystem",
  },
  OverrideGround: {
    PATIENT_CONSENT: "Patienten giver samtykke nu",
    NOT_CONTACTABLE: "Patienten kan ikke kontaktes, og oplysningerne er nødvendige for behandlingen nu",
  },
  BlockKind: { PROFESSIONAL: "En sundhedsperson", ORGANISATION: "Et behandlingssted", DATA_PERIOD: "En periode" },
  CprStatus: {
    ACTIVE: "Aktiv",
    ACTIVE_SPECIAL_ROAD_CODE: "Aktiv",
    ACTIVE_GREENLAND: "Aktiv, bor i Grønland",
    ACTIVE_GREENLAND_SPECIAL_ROAD_CODE: "Aktiv, bor i Grønland",
    INACTIVE: "Inaktiv",
    CANCELLED: "Annulleret",
    DELETED_DUPLICATE: "Slettet",
    CHANGED_NUMBER: "Ændret personnummer",
    MISSING: "Forsvundet",
    EMIGRATED: "Udrejst",
    DEAD: "Død",
  },
  TreatmentWillSituation: {
    TERMINAL: "Uafvendeligt døende",
    SEVERE_ILLNESS: "Svær invaliditet efter sygdom eller ulykke",
    DEMENTIA: "Fremskreden demens, hvor behandling kræver tvang",
  },
  OrganDonorDecision: {
    FULL: "Fuld tilladelse",
    FULL_SUBJECT_TO_FAMILY: "Fuld tilladelse, hvis de pårørende accepterer",
    LIMITED: "Begrænset tilladelse",
    LIMITED_SUBJECT_TO_FAMILY: "Begrænset tilladelse, hvis de pårørende accepterer",
    PROHIBITION: "Forbud",
    UNDECIDED: "Ved ikke – de pårørende beslutter",
  },
  Organ: {
    HEART: "hjerte",
    LUNGS: "lunger",
    LIVER: "lever",
    KIDNEYS: "nyrer",
    PANCREAS: "bugspytkirtel",
    SMALL_INTESTINE: "tyndtarm",
    CORNEAS: "hornhinder",
    SKIN: "hud",
  },
  SourceState: {
    OK: "svarede",
    UNAVAILABLE: "svarer ikke lige nu",
    TIMEOUT: "svarede ikke i tide",
    INVALID_RESPONSE: "sendte oplysninger, der ikke kunne læses",
    INCOMPLETE: "svarede kun delvist",
  },
  // FHIR codes the plan sources send (RequestStatus, activity and goal status, achievement, clinical status).
  FhirStatus: {
    draft: "kladde",
    active: "aktiv",
    "on-hold": "sat i bero",
    revoked: "tilbagekaldt",
    completed: "afsluttet",
    "entered-in-error": "fejlregistreret",
    unknown: "ukendt",
    "not-started": "ikke startet",
    scheduled: "planlagt",
    "in-progress": "i gang",
    cancelled: "aflyst",
    stopped: "stoppet",
    proposed: "foreslået",
    planned: "planlagt",
    accepted: "accepteret",
    rejected: "afvist",
    improving: "i bedring",
    worsening: "forværres",
    "no-change": "uændret",
    achieved: "opnået",
    sustaining: "fastholdes",
    "not-achieved": "ikke opnået",
    "no-progress": "ingen fremgang",
    "not-attainable": "kan ikke nås",
    inactive: "inaktiv",
    recurrence: "tilbagefald",
    relapse: "tilbagefald",
    remission: "i remission",
    resolved: "ophørt",
  },
  CallerKind: { ANONYMOUS: "Ikke logget ind", CITIZEN: "Borger", PROFESSIONAL: "Sundhedsperson", SYSTEM: "Fagsystem" },
  Language: { da: "Dansk", en: "Engelsk", de: "Tysk", sv: "Svensk", no: "Norsk", pl: "Polsk", ar: "Arabisk", tr: "Tyrkisk" },
};

/** The Danish word for `value` of enum `kind`, or the value itself when there is none yet. */
export function say(kind, value) {
  return (words[kind] && words[kind][value]) || value || "";
}

/** Every [value, word] of an enum, in the order above. */
export function choices(kind) {
  return Object.entries(words[kind]);
}

/** What an error code means to the person reading the page; `source` names a source. */
export function errorText(code, source) {
  const from = source ? ` (kilde: ${source})` : "";
  switch (code) {
    case "CONSENT_DENIED":
      return "Patienten har spærret for, at du kan se disse oplysninger (Min Spærring).";
    case "FORBIDDEN":
      return "Du har ikke adgang til disse oplysninger.";
    case "UNAUTHENTICATED":
      return "Du skal logge ind for at se oplysningerne.";
    case "SOURCE_UNAVAILABLE":
      return `Kilden svarer ikke lige nu, så oplysningerne herfra mangler${from}.`;
    case "SOURCE_TIMEOUT":
      return `Kilden svarede ikke i tide, så oplysningerne herfra mangler${from}.`;
    case "SOURCE_INVALID_RESPONSE":
      return `Kilden sendte oplysninger, der ikke kunne læses; noget kan mangle${from}.`;
    case "SOURCE_INCOMPLETE":
      return `Kilden svarede kun delvist; listen er måske ikke komplet${from}.`;
    case "ACCESS_LOG_UNAVAILABLE":
      return "Adgangsloggen kan ikke skrives lige nu, så oplysningerne vises ikke. Prøv igen om lidt.";
    case "VERSION_CONFLICT":
      return "Oplysningerne er blevet ændret af en anden, siden du hentede dem.";
    case "BAD_USER_INPUT":
      return "Et af felterne er ikke udfyldt rigtigt.";
    case "QUERY_TOO_COMPLEX":
    case "GRAPHQL_VALIDATION_FAILED":
    case "BAD_REQUEST":
      return "Siden sendte en forespørgsel, som tjenesten ikke kunne bruge. Genindlæs siden.";
    default:
      return "Der skete en fejl. Prøv igen om lidt.";
  }
}

/** The Danish name of a field `extensions.argument` names, e.g. "changes.phone" or "block.validity.end". */
export function argumentText(argument) {
  const parts = (argument || "").split(".").map((part) => part.replace(/\[\d+\]$/, ""));
  const periods = {
    "dataPeriod.start": "Data fra",
    "dataPeriod.end": "Data til",
    "validity.start": "Gyldig fra",
    "validity.end": "Gyldig til",
  };
  const inPeriod = periods[parts.slice(-2).join(".")];
  if (inPeriod) return inPeriod;
  const last = parts.at(-1);
  const names = {
    phone: "Telefonnummer",
    dentist: "Tandlæge",
    preferredLanguage: "Foretrukket sprog",
    temporaryAddress: "Midlertidig adresse",
    line: "Adresse",
    postalCode: "Postnummer",
    city: "By",
    municipalityCode: "Kommunekode",
    endDate: "Slutdato",
    relatives: "Pårørende",
    givenName: "Fornavn",
    familyName: "Efternavn",
    relation: "Relation",
    authorizationId: "Autorisations-ID",
    organisationSorId: "SOR-kode",
    dataPeriod: "Periode",
    validity: "Gyldighedsperiode",
    from: "Fra dato",
    to: "Til dato",
    reason: "Begrundelse",
    id: "Spærring",
  };
  return names[last] || argument;
}
