// Overblik: the person, the own GP, the Fælles Stamkort with relatives, and the will and donor
// registrations (their content only for the citizen and their representatives).

import { PROTECTED, facts, formatCpr, formatDate, h, pageTitle, replace, uid } from "../dom.js";
import { sectionNotices } from "../notices.js";
import { say } from "../texts.js";

export const title = "Overblik";

/** A section with an h2 and its notices; `body` is left out when the data is null. */
export function section(heading, notices, body) {
  const id = uid("afsnit");
  return h("section", { class: "card", "aria-labelledby": id }, h("h2", { id, text: heading }), notices, body);
}

function person(p) {
  if (!p) return null;
  const status = p.status.startsWith("ACTIVE") ? null : `${say("CprStatus", p.status)}${p.statusDate ? ` siden ${formatDate(p.statusDate)}` : ""}`;
  return facts([
    ["Navn", p.name],
    ["Adresse", p.address || (p.nameAndAddressProtected ? PROTECTED : "Ingen adresse")],
    ["Fødselsdato", formatDate(p.birthDate)],
    ["Status", status],
    ["Nyt CPR-nummer", p.replacedBy ? formatCpr(p.replacedBy) : null],
    ["Beskyttelse", p.nameAndAddressProtected ? "Navne- og adressebeskyttelse" : null],
  ]);
}

function phoneLink(phone) {
  if (!phone || phone === PROTECTED) return phone;
  return h("a", { href: `tel:${phone.replace(/\s/g, "")}` }, phone);
}

function practice(gp, failed) {
  if (!gp) return failed ? null : h("p", {}, "Ingen egen læge (sygesikringsgruppe 2).");
  return facts([
    ["Praksis", gp.name],
    ["Telefon", phoneLink(gp.phone)],
    ["Adresse", gp.address],
    ["Læger", gp.doctors.nodes.map((doctor) => doctor.name).join(", ")],
  ]);
}

function relatives(list) {
  if (!list.length) return "Ingen";
  return h(
    "ul",
    { class: "plain" },
    list.map((relative) =>
      h("li", {}, relative.name, relative.relation ? ` (${relative.relation})` : null, relative.phone ? [", ", phoneLink(relative.phone)] : null),
    ),
  );
}

function card(mc) {
  if (!mc) return null;
  const temporary = mc.temporaryAddress
    ? [mc.temporaryAddress.address, mc.temporaryAddress.endDate ? ` (til ${formatDate(mc.temporaryAddress.endDate)})` : null]
    : "Ingen";
  return [
    facts([
      ["Telefon", phoneLink(mc.phone) || "Ikke oplyst"],
      ["Midlertidig adresse", temporary],
      ["Tandlæge", mc.dentist || "Ikke oplyst"],
      ["Foretrukket sprog", mc.preferredLanguage ? say("Language", mc.preferredLanguage) : "Ikke oplyst"],
      ["Sygesikringsgruppe", mc.healthInsuranceGroup ? String(mc.healthInsuranceGroup) : null],
      ["Pårørende", relatives(mc.relatives)],
    ]),
    h("p", {}, h("a", { href: "#/stamkort" }, "Ret stamkortet")),
  ];
}

function yesNo(flag, detail) {
  if (!flag) return "Nej";
  return detail ? ["Ja", h("br"), h("span", { class: "detail" }, detail)] : "Ja";
}

function registrations(reg) {
  if (!reg) return null;
  const d = reg.details || {};
  const will = d.treatmentWill
    ? `Registreret ${formatDate(d.treatmentWill.registered)}: ${d.treatmentWill.situations.map((s) => say("TreatmentWillSituation", s).toLowerCase()).join("; ")}`
    : null;
  const donor = d.organDonor
    ? `${say("OrganDonorDecision", d.organDonor.decision)}${d.organDonor.organs.length ? ` (${d.organDonor.organs.map((o) => say("Organ", o)).join(", ")})` : ""}, registreret ${formatDate(d.organDonor.registered)}`
    : null;
  return facts([
    ["Behandlingstestamente", yesNo(reg.treatmentWill, will)],
    ["Livstestamente", yesNo(reg.livingWill, d.livingWill ? `Registreret ${formatDate(d.livingWill.registered)}` : null)],
    ["Organdonation", yesNo(reg.organDonor, donor)],
    [
      "Fravalg af genoplivning",
      yesNo(reg.resuscitationOptOut, d.resuscitationOptOut ? `Registreret ${formatDate(d.resuscitationOptOut.registered)}` : null),
    ],
  ]);
}

export async function render(main, ctx) {
  const result = await ctx.run("Overview", { ...ctx.patientVariables(), citizen: ctx.isCitizen });
  const patient = result.data.patient;
  const notes = (path, except) => sectionNotices(ctx, result, ["patient", ...path], null, except);
  if (!patient) {
    replace(main, pageTitle(title), notes([]));
    return;
  }
  ctx.patientName(patient.person?.name);
  const name = patient.person?.name === PROTECTED ? null : patient.person?.name;
  const mc = patient.masterCard;
  const gpNotes = notes(["generalPractitioner"]);
  replace(
    main,
    pageTitle(title),
    h(
      "div",
      { class: "grid" },
      section("Person", notes(["person"]), person(patient.person)),
      section("Egen læge", gpNotes, practice(patient.generalPractitioner, gpNotes.length > 0)),
      section("Fælles Stamkort", notes(["masterCard"], ["registrations"]), card(mc)),
      section("Testamenter og organdonation", mc ? notes(["masterCard", "registrations"]) : [], registrations(mc?.registrations)),
    ),
  );
  ctx.announce(`Overblikket for ${name || "patienten"} er hentet.`);
}
