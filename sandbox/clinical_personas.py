"""The personas' designed clinical scenarios (docs/sandbox.md, "Clinical data").

Every item has a stable ID made from the persona's CPR and a key (:func:`sandbox.clinical_gen.persona_id`)
and is dated relative to the anchor (``day``, moved off weekends) or to the Monday of the anchor's
week (``week``), so the scenarios read the same whenever the sandbox starts.
"""

from __future__ import annotations

from datetime import date, timedelta

from sandbox.clinical import (
    AALBORG_TRAINING,
    AALBORG_UH,
    DIALYSIS,
    ENDOCRINOLOGY_AUH,
    HASSERIS_SOR,
    LUNG_CLINIC,
    NEPHROLOGY,
    ODENSE_HOME_CARE,
    ODENSE_TRAINING,
    OUH,
    REHABILITATION_OUH,
    UROLOGY,
    VALDEMARSGADE_SOR,
)
from sandbox.clinical_gen import (
    GP_FOLLOW_UP,
    HAEMODIALYSIS,
    HOME_HELP,
    MORNING_NOTE,
    REHABILITATION,
    ClinicBuilder,
    Code,
    intervention,
    local,
    workday,
)
from sandbox.population import Population

DN184: Code = ("SKS", "DN184", "Kronisk nyresygdom, stadium 4")
DQ059: Code = ("SKS", "DQ059", "Rygmarvsbrok UNS")
DN189: Code = ("SKS", "DN189", "Kronisk nyresygdom UNS")
DJ449: Code = ("SKS", "DJ449", "Kronisk obstruktiv lungesygdom UNS")
DJ459: Code = ("SKS", "DJ459", "Astma UNS")
DE11: Code = ("SKS", "DE11", "Type 2-diabetes")
K86: Code = ("ICPC2", "K86", "Forhøjet blodtryk")
R95: Code = ("ICPC2", "R95", "Kronisk obstruktiv lungesygdom")
T90: Code = ("ICPC2", "T90", "Diabetes type 2")
L03: Code = ("ICPC2", "L03", "Lændesmerter")
COPD: Code = ("SNOMED", "13645005", "Kronisk obstruktiv lungesygdom")
PRESSURE_ULCER: Code = ("FSIII", "I4.4", "Problemer med tryksår")
WASHING: Code = ("FSIII", "J1.1", "Vaske sig")
ENDURANCE: Code = ("FSIII", "J3.9", "Udholdenhed")

HYGIENE: Code = ("FSIII", "H1.1", "Personlig hygiejne")
WOUND: Code = ("FSIII", "G1.39", "Sårbehandling")
MOBILITY: Code = ("FSIII", "H1.4", "Mobilitet")
EVERYDAY: Code = ("FSIII", "H2.2", "RH Hverdagens aktiviteter")
COORDINATION: Code = ("FSIII", "G2.3", "Koordinering")
DIALYSIS_CODE: Code = ("SKS", "BJFD2", "Hæmodialyse")
TRAINING_CODE: Code = ("SKS", "BLHA", "Fysioterapeutisk træning")
"""The SKS procedure codes (these two and :data:`GP_FOLLOW_UP`) are illustrative; the FSIII ones are KL's."""

HOSPITAL, GP, MUNICIPALITY = "plans-hospital", "plans-gp", "plans-municipality"
ROOM = "Indgang 20, opgang 4, 3. sal, rum 101"
_GP_ONLY: tuple[str, ...] = (
    "protected",
    "mother",
    "father",
    "child_under_15",
    "child_15",
    "blocks_doctor",
    "changed_cpr_new",
    "medcom_einer",
    "medcom_lonni",
    "guardian",
    "ward",
)
"""Personas who get a past, a coming and a phone consultation with their GP (:data:`_GP_VISITS`)."""
_GP_VISITS = (("gp-past", -75, "Konsultation"), ("gp-next", 9, "Konsultation"), ("gp-phone", 60, "Telefonkonsultation"))


def add_persona_clinical(population: Population, clinic: ClinicBuilder) -> None:
    """Add the designed scenarios of every persona that has one."""
    personas = population.personas
    _hans(clinic, personas["hans"])
    _kol_diabetes(clinic, personas["kol_diabetes"])
    _blocks_places(clinic, personas["blocks_places"])
    anchor = clinic.anchor
    for index, key in enumerate(_GP_ONLY):
        person = population.persons[personas[key]]
        practice = population.practices[person.ydernummer or ""]
        chart = clinic.chart(person.cpr)
        for item, days, title in _GP_VISITS:
            start = local(workday(anchor + timedelta(days=days + index % 3)), 8 + index % 6, 15 * (index % 4))
            chart.appointment(item, practice.sor, start, 15, title)
    anne = clinic.chart(personas["blocks_doctor"])
    anne.appointment("lung-clinic", LUNG_CLINIC, local(workday(anchor + timedelta(days=16)), 9, 30), 30, "Astmakontrol")


def _hans(clinic: ClinicBuilder, cpr: str) -> None:
    """Kidney failure and myelomeningocele: hospital, dialysis, home care, rehabilitation and his GP."""
    c, a = clinic.chart(cpr), clinic.anchor
    monday = a - timedelta(days=a.weekday())

    def day(offset: int) -> date:
        return workday(a + timedelta(days=offset))

    def week(offset: int) -> date:
        return monday + timedelta(days=offset)

    # Region Syddanmark, with the MedCom APD scenarios shared through DDS.
    c.appointment("nephrology-past", NEPHROLOGY, local(day(-42), 10), 30, "Ambulant kontrol, nyremedicin", dds=True)
    c.appointment("nephrology-week", NEPHROLOGY, local(week(3), 13), 45, "Samtale om dialyse", dds=True, room=ROOM)
    c.appointment("nephrology-transplant", NEPHROLOGY, local(day(35), 10), 60, "Samtale om transplantationsudredning")
    c.appointment(
        "nephrology-all-day",
        NEPHROLOGY,
        local(day(21)),
        0,
        "Dagudredning før nyretransplantation",
        dds=True,
        all_day=True,
    )
    moved_from = local(day(3), 8, 30)
    c.appointment(
        "urology-moved", UROLOGY, local(day(10), 11), 30, "Kontrol, urologi", dds=True, earlier_starts=[moved_from]
    )
    admitted = day(49)
    discharged = local(admitted + timedelta(days=2), 12)
    c.appointment("urology-admission", UROLOGY, local(admitted, 8), 0, "Indlæggelse", dds=True, end=discharged)
    for n in range(6):
        for weekday in (0, 2, 4):
            start = local(week(7 * n + weekday), 7, 30)
            c.appointment(f"dialysis-{n}-{weekday}", DIALYSIS, start, 240, "Hæmodialyse", HAEMODIALYSIS)
    for n in range(-2, 6):
        start = local(week(7 * n + 1), 14)
        c.appointment(f"rehabilitation-{n}", REHABILITATION_OUH, start, 60, "Træning, rehabilitering", REHABILITATION)

    # Odense Kommune: home care on Tuesdays and Saturdays, only through DDS, one visit withdrawn.
    for offset in range(-28, 56):
        if week(offset).weekday() in (1, 5):
            start, withdrawn = local(week(offset), 8), offset == 12
            c.appointment(
                f"home-care-{offset}",
                ODENSE_HOME_CARE,
                start,
                45,
                "Personlig pleje",
                HOME_HELP,
                dds=True,
                at_home=True,
                time_note=MORNING_NOTE,
                deprecated=withdrawn,
            )
    c.appointment(
        "training-visit", ODENSE_TRAINING, local(day(28), 10), 60, "Visitation til genoptræning", REHABILITATION
    )

    # His GP: this week and a past annual check.
    c.appointment("gp-week", HASSERIS_SOR, local(week(2), 14), 15, "Blodtrykskontrol")
    c.appointment("gp-past", HASSERIS_SOR, local(day(-30), 9, 15), 30, "Årskontrol")

    ckd = c.condition("ckd", HOSPITAL, DN184, NEPHROLOGY, day(-730), "encounter-diagnosis")
    spina = c.condition("spina-bifida", HOSPITAL, DQ059, UROLOGY, date(1990, 5, 2), "encounter-diagnosis")
    hypertension = c.condition("hypertension", GP, K86, HASSERIS_SOR, day(-1500))
    ulcer = c.condition("pressure-ulcer", MUNICIPALITY, PRESSURE_ULCER, ODENSE_HOME_CARE, day(-40))
    washing = c.condition("washing", MUNICIPALITY, WASHING, ODENSE_HOME_CARE, day(-200))

    since, rehab = day(-60), REHABILITATION_OUH
    life = c.goal("life", HOSPITAL, "life", "Kunne tage toget til Aalborg og besøge min søster", rehab, since)
    kidney_text = "Stabil nyrefunktion (eGFR over 15) indtil transplantation"
    kidney = c.goal("kidney", HOSPITAL, "disease", kidney_text, NEPHROLOGY, since, [ckd], by="practitioner")
    transfer = c.goal(
        "transfer", HOSPITAL, "functional", "Klare forflytning fra kørestol til seng selv", rehab, since, [spina]
    )
    arms = "Styrketræning af skuldre og arme to gange om ugen"
    strength = c.sub_goal("strength", HOSPITAL, arms, rehab, since, "fysioterapeut", transfer, [spina])
    board = c.sub_goal("board", HOSPITAL, "Afprøve glidebræt til forflytning", rehab, since, "ergoterapeut", transfer)
    c.plan(
        "rehabilitation-plan",
        HOSPITAL,
        "Rehabiliteringsplan",
        rehab,
        since,
        "hospitalsplan",
        [
            intervention(
                TRAINING_CODE, "Træning af overkrop og forflytning én gang om ugen", rehab, since, [strength, board]
            ),
            intervention(DIALYSIS_CODE, "Hæmodialyse tre gange om ugen", DIALYSIS, monday, [kidney]),
        ],
        [life, kidney, transfer, strength, board],
        [ckd, spina],
        "Rehabilitering under dialyse og frem mod transplantationsudredning",
    )
    c.goal("blood-pressure", GP, "disease", "Blodtryk under 130/80 mmHg", HASSERIS_SOR, day(-400), [hypertension])

    granted, care = day(-40), ODENSE_HOME_CARE
    wash = c.goal("wash-self", MUNICIPALITY, "functional", "Kunne klare overkropsvask selv", care, granted, [washing])
    heal = c.goal("ulcer-healed", MUNICIPALITY, "disease", "Tryksåret er helet", care, granted, [ulcer], due=day(50))
    c.plan(
        "home-care-plan",
        MUNICIPALITY,
        "Indsatsplan, hjemmepleje",
        care,
        granted,
        "kommunal indsatsplan",
        [
            intervention(HYGIENE, "Hjælp til bad og påklædning tirsdag og lørdag morgen", care, granted, [wash]),
            intervention(WOUND, "Tryksår på venstre balde tilses og behandles", care, granted, [heal]),
        ],
        [wash, heal],
        [ulcer, washing],
    )


def _kol_diabetes(clinic: ClinicBuilder, cpr: str) -> None:
    """KOL and type 2 diabetes: the GP's forløbsplan with goals of every kind, municipal training."""
    c, a = clinic.chart(cpr), clinic.anchor
    monday = a - timedelta(days=a.weekday())

    def day(offset: int) -> date:
        return workday(a + timedelta(days=offset))

    def week(offset: int) -> date:
        return monday + timedelta(days=offset)

    c.appointment("lung-past", LUNG_CLINIC, local(day(-50), 10), 45, "Lungefunktionsundersøgelse")
    c.appointment("lung-next", LUNG_CLINIC, local(day(20), 9, 15), 30, "Ambulant kontrol, KOL")
    c.appointment("diabetes-past", ENDOCRINOLOGY_AUH, local(day(-120), 11), 30, "Diabeteskontrol")
    c.appointment("diabetes-next", ENDOCRINOLOGY_AUH, local(day(40), 13, 30), 30, "Diabeteskontrol")
    c.appointment("gp-blood-test", VALDEMARSGADE_SOR, local(day(-90), 8, 15), 15, "Blodprøvekontrol")
    c.appointment("gp-annual", VALDEMARSGADE_SOR, local(day(14), 9), 30, "Årskontrol, KOL og type 2-diabetes")
    for n in range(-3, 9):
        start = local(week(7 * n + 3), 10)
        c.appointment(f"training-{n}", AALBORG_TRAINING, start, 90, "KOL-hold, træning", REHABILITATION)

    gp, since, training, started = VALDEMARSGADE_SOR, day(-365), AALBORG_TRAINING, week(-21)
    r95 = c.condition("r95", GP, R95, gp, day(-2200))
    t90 = c.condition("t90", GP, T90, gp, day(-1800))
    dj449 = c.condition("dj449", HOSPITAL, DJ449, LUNG_CLINIC, day(-2150), "encounter-diagnosis")
    de11 = c.condition("de11", HOSPITAL, DE11, ENDOCRINOLOGY_AUH, day(-1750), "encounter-diagnosis")
    copd = c.condition("copd", MUNICIPALITY, COPD, training, day(-100))
    endurance = c.condition("endurance", MUNICIPALITY, ENDURANCE, training, day(-100))

    # Overall goals in the GP's forløbsplan, and the professions' sub-goals wherever they are set.
    life = c.goal("life", GP, "life", "Kunne passe mine børnebørn og gå tur med hunden", gp, since, [r95, t90])
    hba1c = c.goal("hba1c", GP, "disease", "HbA1c under 53 mmol/mol", gp, since, [t90], by="practitioner", due=day(180))
    hba1c.achievement = "improving"
    fewer = "Færre KOL-exacerbationer: højst én om året"
    exacerbations = c.goal("exacerbations", GP, "disease", fewer, gp, since, [r95], by="practitioner")
    walk = c.goal("walk", GP, "functional", "Gå 500 m uden pause", gp, since, [r95], due=day(120))
    meals = "Faste måltider og færre hurtige kulhydrater"
    diet = c.sub_goal("diet", MUNICIPALITY, meals, training, started, "diætist", hba1c, [t90])
    measure = "Måle blodsukker morgen og aften i to uger før kontrol"
    c.sub_goal("glucose", HOSPITAL, measure, ENDOCRINOLOGY_AUH, day(-120), "sygeplejerske", hba1c, [de11])
    signs = "Kende tegn på exacerbation og bruge handleplanen"
    action = c.sub_goal("action-plan", HOSPITAL, signs, LUNG_CLINIC, day(-50), "sygeplejerske", exacerbations, [dj449])
    team_text = "Deltage i KOL-hold to gange om ugen i 12 uger"
    team = c.sub_goal("team", MUNICIPALITY, team_text, training, started, "fysioterapeut", walk, [copd, endurance])
    further = "Øge gangdistancen med 100 m hver anden uge"
    distance = c.sub_goal("distance", MUNICIPALITY, further, training, started, "fysioterapeut", walk, [endurance])
    saving = "Bruge energibesparende teknikker ved indkøb"
    energy = c.sub_goal("energy", MUNICIPALITY, saving, training, started, "ergoterapeut", walk, [copd])

    check = "Årskontrol med HbA1c, lungefunktion, fodundersøgelse og medicingennemgang"
    c.plan(
        "forloebsplan",
        GP,
        "Forløbsplan for KOL og type 2-diabetes",
        gp,
        since,
        "forløbsplan",
        [
            intervention(GP_FOLLOW_UP, check, gp, since, [hba1c, exacerbations]),
            intervention(MOBILITY, "Henvist til KOL-rehabilitering i Aalborg Kommune", training, since, [walk]),
        ],
        [life, hba1c, exacerbations, walk],
        [r95, t90],
        "Fælles plan lagt med patienten ved årskontrollen",
    )
    c.plan(
        "training-plan",
        MUNICIPALITY,
        "Træningsplan, KOL-rehabilitering",
        training,
        started,
        "kommunal indsatsplan",
        [
            intervention(
                MOBILITY, "KOL-hold: kondition og styrke to gange om ugen", training, started, [team, distance]
            ),
            intervention(EVERYDAY, "Energibesparende teknikker i hverdagen", training, started, [energy]),
            intervention(
                COORDINATION, "Kostvejledning ved diætist i samarbejde med egen læge", training, started, [diet]
            ),
        ],
        [team, distance, energy, diet],
        [copd, endurance],
    )
    inhaler = "Instruktion i inhalationsteknik og handleplan ved exacerbation"
    lung_plan = [intervention(GP_FOLLOW_UP, inhaler, LUNG_CLINIC, day(-50), [action])]
    c.plan(
        "lung-plan",
        HOSPITAL,
        "Behandlingsplan, KOL",
        LUNG_CLINIC,
        day(-50),
        "hospitalsplan",
        lung_plan,
        [action],
        [dj449],
    )


def _blocks_places(clinic: ClinicBuilder, cpr: str) -> None:
    """Items at blocked organisations (OUH with its units, Region Nordjylland) and in 2019 to 2020."""
    c, a = clinic.chart(cpr), clinic.anchor

    def day(offset: int) -> date:
        return workday(a + timedelta(days=offset))

    def home_visit(key: str, day: date, hour: int, minute: int, title: str) -> None:
        c.appointment(key, ODENSE_HOME_CARE, local(day, hour, minute), 30, title, HOME_HELP, dds=True, at_home=True)

    # Blocked: OUH and its units (nephrology is a sub-unit, dialysis a sub-sub-unit) and Region Nordjylland.
    c.appointment("ouh", OUH, local(day(30), 9), 30, "Forundersøgelse", dds=True)
    c.appointment("nephrology", NEPHROLOGY, local(day(7), 10), 30, "Ambulant kontrol, nyremedicin")
    c.appointment("nephrology-dds", NEPHROLOGY, local(day(21), 11), 30, "Ambulant kontrol, nyremedicin", dds=True)
    c.appointment("dialysis-1", DIALYSIS, local(day(2), 7, 30), 240, "Hæmodialyse", HAEMODIALYSIS)
    c.appointment("dialysis-2", DIALYSIS, local(day(4), 7, 30), 240, "Hæmodialyse", HAEMODIALYSIS, dds=True)
    c.appointment("aalborg-uh", AALBORG_UH, local(day(12), 13), 30, "Ambulant samtale")
    c.appointment("lung-clinic", LUNG_CLINIC, local(day(25), 8, 30), 30, "Lungefunktionsundersøgelse")
    # Allowed organisations, now.
    c.appointment("training", ODENSE_TRAINING, local(day(5), 10), 60, "Genoptræning", REHABILITATION)
    home_visit("home-care", day(9), 8, 0, "Hjemmehjælp")
    c.appointment("gp", HASSERIS_SOR, local(day(3), 11), 15, "Konsultation")
    # Allowed organisations, inside the blocked data period (2019-01-01 to 2020-12-31) and just outside it.
    c.appointment("gp-2018", HASSERIS_SOR, local(date(2018, 12, 31), 10), 15, "Konsultation")
    c.appointment("gp-2019-first", HASSERIS_SOR, local(date(2019, 1, 2), 10), 15, "Konsultation")
    c.appointment("gp-2019", HASSERIS_SOR, local(date(2019, 5, 14), 9, 30), 15, "Konsultation")
    c.appointment("training-2020", ODENSE_TRAINING, local(date(2020, 3, 10), 13), 60, "Genoptræning", REHABILITATION)
    home_visit("home-care-2020", date(2020, 12, 31), 20, 0, "Aftentilsyn")
    # 00:30 on 1 January 2021 in Denmark is still 31 December in UTC: outside the period in Danish dates.
    home_visit("home-care-2021", date(2021, 1, 1), 0, 30, "Nattilsyn")
    c.appointment("gp-2021", HASSERIS_SOR, local(date(2021, 2, 9), 8, 45), 15, "Konsultation")

    gp, care = HASSERIS_SOR, ODENSE_HOME_CARE
    ckd = c.condition("ckd", HOSPITAL, DN189, NEPHROLOGY, day(-200), "encounter-diagnosis")
    asthma = c.condition("asthma", HOSPITAL, DJ459, LUNG_CLINIC, day(-300), "encounter-diagnosis")
    hypertension = c.condition("hypertension-2019", GP, K86, gp, date(2019, 6, 1))
    back = c.condition("back", GP, L03, gp, day(-30))
    ulcer = c.condition("ulcer-2020", MUNICIPALITY, PRESSURE_ULCER, care, date(2020, 9, 15))

    kidney = c.goal(
        "kidney", HOSPITAL, "disease", "Stabil nyrefunktion", NEPHROLOGY, day(-200), [ckd], by="practitioner"
    )
    lungs = c.goal("lungs", HOSPITAL, "disease", "Ingen natlige astmaanfald", LUNG_CLINIC, day(-300), [asthma])
    pressure = c.goal(
        "pressure-2019", GP, "disease", "Blodtryk under 135/85 mmHg", gp, date(2019, 6, 1), [hypertension]
    )
    cycling = c.goal("cycling", GP, "functional", "Kunne cykle på arbejde igen", gp, day(-30), [back])
    healed = c.goal("healed-2020", MUNICIPALITY, "disease", "Tryksåret er helet", care, date(2020, 9, 15), [ulcer])

    for key, endpoint, title, sor, start, category, code, text, goal, condition in (
        ("nephrology-plan", HOSPITAL, "Behandlingsplan, nyresygdom", NEPHROLOGY, day(-200), "hospitalsplan",
         DIALYSIS_CODE, "Hæmodialyse to gange om ugen", kidney, ckd),
        ("asthma-plan", HOSPITAL, "Behandlingsplan, astma", LUNG_CLINIC, day(-300), "hospitalsplan",
         GP_FOLLOW_UP, "Instruktion i inhalationsteknik", lungs, asthma),
        ("gp-plan-2020", GP, "Forløbsplan for forhøjet blodtryk", gp, date(2020, 2, 1), "forløbsplan",
         GP_FOLLOW_UP, "Blodtrykskontrol hver tredje måned", pressure, hypertension),
        ("gp-plan", GP, "Plan for lændesmerter", gp, day(-30), "forløbsplan",
         GP_FOLLOW_UP, "Øvelser og vejledning om aktivitet", cycling, back),
        ("home-care-plan-2020", MUNICIPALITY, "Indsatsplan, sårbehandling", care, date(2020, 9, 15),
         "kommunal indsatsplan", WOUND, "Tryksår på hælen tilses dagligt", healed, ulcer),
    ):  # fmt: skip
        performer = DIALYSIS if code is DIALYSIS_CODE else sor
        steps = [intervention(code, text, performer, start, [goal])]
        c.plan(key, endpoint, title, sor, start, category, steps, [goal], [condition])
