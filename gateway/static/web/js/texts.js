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
    case "DOCUMENT_NOT_TRUSTED":
    case "PERSISTED_QUERY_NOT_FOUND":
      return "Siden er blevet opdateret, siden du åbnede den. Genindlæs siden.";
    case "RATE_LIMITED":
      return "Du har sendt mange forespørgsler på kort tid. Vent lidt, og prøv igen.";
    case "QUERY_TOO_COMPLEX":
    case "GRAPHQL_VALIDATION_FAILED":
    case "BAD_REQUEST":
      return "Siden sendte en forespørgsel, som tjenesten ikke kunne bruge. Genindlæs siden.";
    default:
      return "Der skete en fejl. Prøv igen om lidt.";
  }
}

// Why the gateway refused a value (BAD_USER_INPUT), in Danish: [where, because, words]. `where` is
// the end of `extensions.argument` (after a dot, or all of it), `because` a piece of the gateway's
// English message ("" for any); the first row that fits wins. tests/gateway/test_web_operations.py
// checks that every `because` is in a message the gateway gives, so a reworded message fails there.
const REASONS = [
  ["from", "years back", "Min Log gemmer adgange i to år, så datoen kan ikke ligge længere tilbage."],
  ["to", "years back", "Min Log gemmer adgange i to år, så datoen kan ikke ligge længere tilbage."],
  ["from", "must not be after", "Fra-datoen må ikke ligge efter til-datoen."],
  ["to", "must not be before", "Til-datoen må ikke ligge før fra-datoen."],
  ["to", "at most", "Perioden må højst være et år."],
  ["end", "must not be before", "Slutdatoen må ikke ligge før startdatoen."],
  ["end", "in the past", "Datoen må ikke være overskredet."],
  ["start", "both ends", "Udfyld både »Data fra« og »Data til«."],
  ["end", "both ends", "Udfyld både »Data fra« og »Data til«."],
  ["dataPeriod", "is needed by", "Udfyld både »Data fra« og »Data til«."],
  ["authorizationId", "", "Et autorisations-ID er fem tegn: konsonanter og cifre, fx CBDJ6."],
  ["organisationSorId", "", "En SOR-kode er mindst 11 cifre."],
  ["phone", "phone number", "Et telefonnummer er 8 cifre, evt. med +45 foran, eller et udenlandsk nummer med + og cifre."],
  ["postalCode", "", "Et postnummer er 4 cifre."],
  ["municipalityCode", "", "En kommunekode er 3 eller 4 cifre."],
  ["endDate", "in the past", "Slutdatoen må ikke være overskredet."],
  ["relatives", "protection", "De pårørende er navne- og adressebeskyttede, så du kan ikke ændre dem."],
  ["relatives", "at most", "Der kan højst være 20 pårørende."],
  ["preferredLanguage", "", "Vælg et sprog på listen."],
  ["cpr", "CPR number", "Et CPR-nummer er 10 cifre, og de første seks er en gyldig dato (DDMMÅÅ)."],
  ["cpr", "no Fælles Stamkort", "Patienten har ikke et Fælles Stamkort, der kan ændres."],
  ["id", "no longer exists", "Spærringen findes ikke længere. Den er måske allerede ophævet."],
  ["id", "no block with this id", "Spærringen findes ikke længere. Den er måske allerede ophævet."],
  ["", "must not be blank", "Feltet skal udfyldes."],
  ["", "one line", "Skriv teksten på én linje."],
  ["", "characters", "Teksten er for lang."],
  ["", "placeholder", "Skriv en rigtig værdi, ikke pladsholderen for navne- og adressebeskyttelse."],
  ["", "lies in", "Datoen skal ligge mellem år 1900 og 2199."],
  ["", "a date is written", "Skriv en dato."],
];

/** The path an `extensions.argument` names, without a variable's `$` and with list indexes as parts: "changes.relatives.0.phone". */
export function argumentPath(argument) {
  return (argument || "").replace(/^\$/, "").replace(/\[(\d+)\]/g, ".$1");
}

/** Why the gateway refused the value at `argument`, in Danish; null when the page has no words for it. */
export function inputReason(argument, message) {
  const path = argumentPath(argument);
  const last = path.split(".").filter((part) => !/^\d+$/.test(part)).at(-1) || "";
  const fits = ([where, because]) => (where === "" || where === last) && (message || "").includes(because);
  return REASONS.find(fits)?.[2] || null;
}

/** The Danish name of a field `extensions.argument` names, e.g. "changes.phone" or "block.validity.end". */
export function argumentText(argument) {
  const parts = argumentPath(argument).split(".").filter((part) => !/^\d+$/.test(part));
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
    cpr: "CPR-nummer",
  };
  return names[last] || argument;
}
