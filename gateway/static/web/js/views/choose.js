// Whom to act for. A citizen picks themselves or someone they represent; a professional names the
// patient. The gateway decides whether the caller may: the page only asks.
//
// `me` cannot yet list whom a caller may act for (issue 12), so the citizen's choices come from
// what exists: in the demo, the sandbox issuer's listing of custody, guardianship and powers of
// attorney; everywhere, a CPR field.

import { field, formatCpr, formatDate, h, pageTitle, readCpr, replace, uid } from "../dom.js";

export const title = "Hvem vil du se?";

function relationsOf(cpr, directory) {
  if (!directory) return [];
  const names = new Map(directory.personas.map((persona) => [persona.cpr, persona.name]));
  const found = [];
  for (const relation of directory.relations) {
    if (relation.holder_cpr !== cpr) continue;
    const how = relation.kind === "custody" ? "forældremyndighed" : "værgemål";
    found.push({ cpr: relation.subject_cpr, name: names.get(relation.subject_cpr), how });
  }
  for (const power of directory.powers_of_attorney) {
    if (power.holder_cpr !== cpr) continue;
    const until = power.valid_to ? `, til og med ${formatDate(power.valid_to)}` : "";
    found.push({ cpr: power.giver_cpr, name: names.get(power.giver_cpr), how: `fuldmagt${until}` });
  }
  return found;
}

function choice(name, value, text, checked) {
  const id = uid("valg");
  return h(
    "div",
    { class: "choice" },
    h("input", { type: "radio", name, id, value, checked }),
    h("label", { for: id, text }),
  );
}

export async function render(main, ctx) {
  const directory = await ctx.directory();
  const me = ctx.me;
  const error = h("p", { class: "field-error", id: uid("cpr-fejl"), "aria-live": "polite" });
  const [cprField, cprInput] = field(
    ctx.isCitizen ? "En andens CPR-nummer" : "Patientens CPR-nummer",
    { name: "cpr", inputmode: "numeric", autocomplete: "off", list: directory ? "kendte-personer" : null },
    "10 cifre, fx 140372-3705.",
  );
  cprInput.setAttribute("aria-describedby", `${cprInput.getAttribute("aria-describedby")} ${error.id}`);
  const datalist = directory
    ? h(
        "datalist",
        { id: "kendte-personer" },
        directory.personas.map((persona) => h("option", { value: persona.cpr }, persona.name)),
      )
    : null;
  const options = [];
  if (ctx.isCitizen) {
    options.push(choice("hvem", me.cpr, `Dig selv (${me.name || formatCpr(me.cpr)})`, true));
    for (const relation of relationsOf(me.cpr, directory)) {
      const who = relation.name ? `${relation.name} (${formatCpr(relation.cpr)})` : formatCpr(relation.cpr);
      options.push(choice("hvem", relation.cpr, `${who} – ${relation.how}`, false));
    }
    options.push(choice("hvem", "", "En anden (skriv CPR-nummer)", false));
  }
  const form = h(
    "form",
    {
      class: "card",
      onSubmit: (event) => {
        event.preventDefault();
        const picked = ctx.isCitizen ? form.elements.hvem.value : "";
        const cpr = picked || readCpr(cprInput.value);
        if (!cpr) {
          error.textContent = "Skriv et CPR-nummer med 10 cifre.";
          cprInput.setAttribute("aria-invalid", "true");
          cprInput.focus();
          return;
        }
        const known = directory?.personas.find((persona) => persona.cpr === cpr);
        ctx.choosePatient({ cpr, name: known?.name || (cpr === me.cpr ? me.name : null) });
      },
    },
    ctx.isCitizen ? h("fieldset", {}, h("legend", { text: "Vis oplysninger om" }), options) : null,
    cprField,
    datalist,
    error,
    h("button", { type: "submit" }, ctx.isCitizen ? "Vis" : "Vis patient"),
  );
  replace(
    main,
    pageTitle(title),
    h(
      "p",
      {},
      ctx.isCitizen
        ? "Du kan se dine egne oplysninger og oplysninger om dem, du har forældremyndighed over, er værge for eller har fuldmagt fra."
        : "Skriv CPR-nummeret på den patient, du behandler. Adgangen afgøres af din behandlingsrelation og patientens spærringer.",
    ),
    form,
  );
}
