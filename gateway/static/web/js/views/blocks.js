// Min Spærring: the patient's blocks, and creating and revoking one (a professional, a treatment
// place with or without its sub-units, or a period of data).

import { Refused } from "../api.js";
import { field, formatPeriod, h, pageTitle, replace, uid } from "../dom.js";
import { FormMessages } from "../forms.js";
import { confirmDialog, sectionNotices, viewNotice } from "../notices.js";
import { choices, errorText, inputReason } from "../texts.js";

export const title = "Min Spærring";

function describe(block) {
  if (block.kind === "PROFESSIONAL") return `Sundhedspersonen med autorisations-ID ${block.authorizationId ?? "(ukendt)"}`;
  if (block.kind === "ORGANISATION") {
    const place = `Behandlingsstedet med SOR-kode ${block.organisationSorId ?? "(ukendt)"}${block.includeSubunits ? " og dets underenheder" : ""}`;
    return block.dataPeriod ? `${place}, data fra perioden ${formatPeriod(block.dataPeriod).toLowerCase()}` : place;
  }
  return `Data fra perioden ${formatPeriod(block.dataPeriod).toLowerCase()}`;
}

function blockItem(ctx, block, reload, status) {
  const id = uid("spaerring");
  return h(
    "li",
    { class: "block" },
    h("p", { class: "title", id }, describe(block)),
    h("p", { class: "detail" }, `Gælder: ${formatPeriod(block.validity, "indtil du ophæver den")}`, block.inForce ? " · I kraft" : " · Ikke i kraft nu"),
    block.unmatchable
      ? viewNotice("warn", "Bemærk:", "Det kan ikke læses sikkert, hvem spærringen gælder, så den gælder for alle. Ophæv den og opret den igen.")
      : null,
    h(
      "button",
      {
        type: "button",
        class: "secondary",
        "aria-describedby": id,
        onClick: async () => {
          if (!(await confirmDialog("Ophæv spærringen?", describe(block), "Ophæv spærringen"))) return;
          status.textContent = "";
          try {
            const result = await ctx.run("RevokeBlock", { cpr: ctx.patient.cpr, id: block.id });
            const failure = result.errors[0];
            status.textContent = result.data.revokeBlock
              ? "Spærringen er ophævet."
              : inputReason(failure?.extensions?.argument, failure?.message) || errorText(failure?.extensions?.code);
            await reload();
          } catch (error) {
            ctx.failed(error, status);
          }
        },
      },
      "Ophæv",
    ),
  );
}

/** The form's own checks, field by field: what the gateway would refuse, and a half-filled period. */
function check(form, kind, messages) {
  const e = form.elements;
  if (kind === "PROFESSIONAL" && !e.authorizationId.value.trim()) {
    messages.field(e.authorizationId, "Skriv sundhedspersonens autorisations-ID.");
  }
  if (kind === "ORGANISATION" && !e.organisationSorId.value.trim()) {
    messages.field(e.organisationSorId, "Skriv behandlingsstedets SOR-kode.");
  }
  if (kind !== "PROFESSIONAL") {
    // A data period has both ends (BlockInput.dataPeriod): never send half of one, never drop it.
    const [from, to] = [e.periodFrom, e.periodTo];
    const optional = kind === "ORGANISATION" ? " – eller tøm »Data fra« og »Data til« for at spærre alle data" : "";
    if (from.value && !to.value) messages.field(to, `Udfyld også »Data til«${optional}.`);
    if (to.value && !from.value) messages.field(from, `Udfyld også »Data fra«${optional}.`);
    if (kind === "DATA_PERIOD" && !from.value && !to.value) messages.field(from, "Udfyld »Data fra« og »Data til«.");
    if (from.value && to.value && to.value < from.value) messages.field(to, "»Data til« må ikke ligge før »Data fra«.");
  }
  if (e.validFrom.value && e.validTo.value && e.validTo.value < e.validFrom.value) {
    messages.field(e.validTo, "»Gyldig til« må ikke ligge før »Gyldig fra«.");
  }
}

function createForm(ctx, reload, status) {
  const error = h("div", { class: "field-error", "aria-live": "polite" });
  const groups = {
    PROFESSIONAL: h("div", {}, field("Autorisations-ID", { name: "authorizationId", autocomplete: "off" }, "Fem tegn, fx CBDJ6.")[0]),
    ORGANISATION: h(
      "div",
      {},
      field("SOR-kode for behandlingsstedet", { name: "organisationSorId", inputmode: "numeric", autocomplete: "off" }, "Mindst 11 cifre.")[0],
      (() => {
        const id = uid("underenheder");
        return h("div", { class: "choice" }, h("input", { type: "checkbox", id, name: "includeSubunits" }), h("label", { for: id, text: "Også underenheder" }));
      })(),
      h("p", { class: "hint", text: "Udfyld både »Data fra« og »Data til« nedenfor for kun at spærre data fra en periode." }),
    ),
  };
  const [periodFrom] = field("Data fra", { type: "date", name: "periodFrom" });
  const [periodTo] = field("Data til", { type: "date", name: "periodTo" });
  const [validFrom] = field("Gyldig fra (valgfri)", { type: "date", name: "validFrom" });
  const [validTo] = field("Gyldig til (valgfri)", { type: "date", name: "validTo" });
  const kinds = choices("BlockKind").map(([kind, label], index) => {
    const id = uid("art");
    return h("div", { class: "choice" }, h("input", { type: "radio", name: "kind", id, value: kind, checked: index === 0 }), h("label", { for: id, text: label }));
  });
  const form = h(
    "form",
    { class: "card", novalidate: true }, // checked below, with Danish messages at the fields
    h("h2", { text: "Opret en spærring" }),
    h("fieldset", {}, h("legend", { text: "Hvad vil du spærre for?" }), kinds),
    groups.PROFESSIONAL,
    groups.ORGANISATION,
    h("div", { class: "date-row" }, periodFrom, periodTo),
    h("div", { class: "date-row" }, validFrom, validTo),
    error,
    h("button", { type: "submit" }, "Opret spærring"),
  );
  const inputs = {
    "block.authorizationId": form.elements.authorizationId,
    "block.organisationSorId": form.elements.organisationSorId,
    "block.includeSubunits": form.elements.includeSubunits,
    "block.dataPeriod": form.elements.periodFrom,
    "block.dataPeriod.start": form.elements.periodFrom,
    "block.dataPeriod.end": form.elements.periodTo,
    "block.validity": form.elements.validFrom,
    "block.validity.start": form.elements.validFrom,
    "block.validity.end": form.elements.validTo,
  };
  const messages = new FormMessages(error, status, (path) => inputs[path] || null);
  const show = () => {
    const kind = form.elements.kind.value;
    groups.PROFESSIONAL.hidden = kind !== "PROFESSIONAL";
    groups.ORGANISATION.hidden = kind !== "ORGANISATION";
    periodFrom.parentElement.hidden = kind === "PROFESSIONAL";
  };
  form.addEventListener("change", show);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    messages.clear();
    const values = form.elements;
    const kind = values.kind.value;
    check(form, kind, messages);
    if (messages.invalid) return;
    const period = values.periodFrom.value ? { start: values.periodFrom.value, end: values.periodTo.value } : null;
    const validity = values.validFrom.value || values.validTo.value ? { start: values.validFrom.value || null, end: values.validTo.value || null } : null;
    const block = {
      kind,
      authorizationId: kind === "PROFESSIONAL" ? values.authorizationId.value.trim().toUpperCase() : null,
      organisationSorId: kind === "ORGANISATION" ? values.organisationSorId.value.trim() : null,
      includeSubunits: kind === "ORGANISATION" && values.includeSubunits.checked,
      dataPeriod: kind === "PROFESSIONAL" ? null : period,
      validity,
    };
    let result;
    try {
      result = await ctx.run("CreateBlock", { cpr: ctx.patient.cpr, block });
    } catch (failure) {
      if (failure instanceof Refused && failure.error) messages.refused(failure.error);
      else ctx.failed(failure, error);
      return;
    }
    if (!result.data.createBlock) {
      messages.refused(result.errors[0]);
      return;
    }
    form.reset();
    show();
    messages.status("Spærringen er oprettet.");
    await reload();
  });
  show();
  return form;
}

export async function render(main, ctx) {
  const list = h("div", { class: "results" });
  const status = h("div", { class: "status-line", role: "status" });
  const reload = async () => {
    const result = await ctx.run("Blocks", { cpr: ctx.patient.cpr });
    const blocks = result.data.patient?.blocks?.nodes;
    replace(
      list,
      sectionNotices(ctx, result, ["patient"], null),
      blocks
        ? blocks.length
          ? h("ul", { class: "blocks" }, blocks.map((block) => blockItem(ctx, block, reload, status)))
          : h("p", { class: "empty" }, "Du har ingen spærringer.")
        : null,
    );
  };
  replace(
    main,
    pageTitle(title),
    h(
      "p",
      {},
      "Du kan spærre for, at sundhedspersoner ser dine oplysninger: for en bestemt sundhedsperson, et behandlingssted eller data fra en periode. Stamoplysninger kan ikke spærres. En læge kan i særlige tilfælde bryde spærringen (værdispring); det kan du se i Min Log.",
    ),
    h("section", { "aria-label": "Dine spærringer" }, h("h2", { text: "Dine spærringer" }), status, list),
    createForm(ctx, reload, status),
  );
  await reload();
}
