// Whom to act for. A citizen picks themselves or someone they represent; a professional names the
// patient. The gateway decides whether the caller may: the page only asks.
//
// The citizen's choices are `me.actsFor` (operations/ActsFor.graphql): the gateway lists children
// under 15, wards and givers of valid powers of attorney from CPR and Digital Fuldmagt. A CPR field
// stays for anyone else; in the demo it suggests the sandbox's personas.

import { cprProblem, field, formatCpr, formatDate, h, pageTitle, readCpr, replace, uid } from "../dom.js";

export const title = "Hvem vil du se?";

const KINDS = { PARENT: "forældremyndighed", GUARDIAN: "værgemål", REPRESENTATIVE: "fuldmagt" };

function how(relation) {
  const kinds = relation.kinds.map((kind) => KINDS[kind] || kind).join(" og ");
  return relation.until ? `${kinds}, til og med ${formatDate(relation.until)}` : kinds;
}

async function relationsOf(ctx) {
  try {
    return await ctx.actsFor();
  } catch {
    return []; // the CPR field below still works
  }
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
  const relations = ctx.isCitizen ? await relationsOf(ctx) : [];
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
    for (const relation of relations) {
      const who = relation.name ? `${relation.name} (${formatCpr(relation.cpr)})` : formatCpr(relation.cpr);
      options.push(choice("hvem", relation.cpr, `${who} – ${how(relation)}`, false));
    }
    options.push(choice("hvem", "", "En anden (skriv CPR-nummer)", false));
    // A CPR number typed is someone else: the choice follows, so what was typed is never ignored.
    cprInput.addEventListener("input", () => {
      if (cprInput.value.trim()) options.at(-1).querySelector("input").checked = true;
    });
  }
  const form = h(
    "form",
    {
      class: "card",
      onSubmit: (event) => {
        event.preventDefault();
        error.textContent = "";
        cprInput.removeAttribute("aria-invalid");
        const picked = ctx.isCitizen ? form.elements.hvem.value : "";
        const cpr = picked || readCpr(cprInput.value);
        if (!cpr) {
          error.textContent = cprProblem(cprInput.value);
          cprInput.setAttribute("aria-invalid", "true");
          cprInput.focus();
          return;
        }
        const known =
          relations.find((relation) => relation.cpr === cpr) ||
          directory?.personas.find((persona) => persona.cpr === cpr);
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
