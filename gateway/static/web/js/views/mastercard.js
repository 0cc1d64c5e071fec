// Stamkort: edit the Fælles Stamkort with the version check. The update names the version read;
// when someone changed the card since (VERSION_CONFLICT), the page shows the newer values, keeps
// what the user typed, moves to the newer version, and the user saves again.

import { facts, field, h, pageTitle, replace, uid } from "../dom.js";
import { sectionNotices, viewNotice } from "../notices.js";
import { argumentText, choices, errorText, say } from "../texts.js";

export const title = "Stamkort";
const FIELDS = ["phone", "dentist", "preferredLanguage", "temporaryAddress", "relatives"];

/** The card as form values: strings ("" for none), the address or null, the relatives. */
function valuesOf(card) {
  const address = card.temporaryAddress?.postalAddress;
  return {
    phone: card.phone || "",
    dentist: card.dentist || "",
    preferredLanguage: card.preferredLanguage || "",
    temporaryAddress: address
      ? {
          line: address.line,
          postalCode: address.postalCode || "",
          city: address.city || "",
          municipalityCode: address.municipalityCode || null,
          endDate: card.temporaryAddress.endDate || "",
        }
      : null,
    relatives: card.relatives.map((r) => ({ givenName: r.givenName, familyName: r.familyName || "", phone: r.phone || "", relation: r.relation || "" })),
  };
}

const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);

/** The fields of `now` that differ from `base`, as MasterCardChanges. */
function changesBetween(base, now) {
  const changes = {};
  for (const key of FIELDS) {
    if (same(base[key], now[key])) continue;
    if (key === "temporaryAddress") {
      const a = now.temporaryAddress;
      changes.temporaryAddress = a && { ...a, endDate: a.endDate || null };
    } else if (key === "relatives") {
      changes.relatives = now.relatives.map((r) => ({
        givenName: r.givenName,
        familyName: r.familyName || null,
        phone: r.phone || null,
        relation: r.relation || null,
      }));
    } else {
      changes[key] = now[key] || null;
    }
  }
  return changes;
}

function relativeFieldset(relative, index, remove) {
  const legend = `Pårørende ${index + 1}`;
  // Named relative-<field>: the card's own `phone` is form.elements.phone.
  const input = (label, name, attrs = {}) => field(label, { name: `relative-${name}`, value: relative[name], ...attrs })[0];
  return h(
    "fieldset",
    { class: "relative" },
    h("legend", { text: legend }),
    input("Fornavn", "givenName", { required: true }),
    input("Efternavn", "familyName"),
    input("Telefon", "phone", { type: "tel" }),
    input("Relation", "relation", {}),
    h("button", { type: "button", class: "secondary", onClick: remove }, `Fjern pårørende ${index + 1}`),
  );
}

/** The form for `values`; `read()` gives the values as typed. */
function cardForm(values, onSave) {
  let relatives = values.relatives.map((r) => ({ ...r }));
  const relativesBox = h("div", {});
  const readRelatives = () =>
    [...relativesBox.querySelectorAll("fieldset.relative")].map((set) => ({
      givenName: set.elements["relative-givenName"].value.trim(),
      familyName: set.elements["relative-familyName"].value.trim(),
      phone: set.elements["relative-phone"].value.trim(),
      relation: set.elements["relative-relation"].value.trim(),
    }));
  const drawRelatives = () => {
    replace(
      relativesBox,
      relatives.map((r, i) =>
        relativeFieldset(r, i, () => {
          relatives = readRelatives().filter((_, j) => j !== i);
          drawRelatives();
        }),
      ),
    );
  };
  drawRelatives();
  const languages = choices("Language");
  if (values.preferredLanguage && !languages.some(([code]) => code === values.preferredLanguage)) {
    languages.push([values.preferredLanguage, values.preferredLanguage]);
  }
  const [languageField, language] = field("Foretrukket sprog", { tag: "select", name: "preferredLanguage" });
  language.append(
    h("option", { value: "" }, "Ikke oplyst"),
    ...languages.map(([code, name]) => h("option", { value: code, selected: code === values.preferredLanguage }, name)),
  );
  const address = values.temporaryAddress || { line: "", postalCode: "", city: "", municipalityCode: null, endDate: "" };
  const error = h("div", { class: "field-error", "aria-live": "polite" });
  const form = h(
    "form",
    { class: "card", novalidate: false },
    field("Telefonnummer", { name: "phone", type: "tel", autocomplete: "tel", value: values.phone }, "8 cifre, evt. med +45 foran.")[0],
    field("Tandlæge", { name: "dentist", value: values.dentist })[0],
    languageField,
    h(
      "fieldset",
      {},
      h("legend", { text: "Midlertidig adresse" }),
      h("p", { class: "hint", text: "Tøm adressefeltet for at fjerne den midlertidige adresse." }),
      field("Adresse", { name: "line", autocomplete: "street-address", value: address.line })[0],
      h("div", { class: "date-row" }, field("Postnummer", { name: "postalCode", inputmode: "numeric", value: address.postalCode })[0], field("By", { name: "city", value: address.city })[0]),
      field("Slutdato (valgfri)", { name: "endDate", type: "date", value: address.endDate })[0],
    ),
    h(
      "fieldset",
      {},
      h("legend", { text: "Pårørende" }),
      relativesBox,
      h(
        "button",
        {
          type: "button",
          class: "secondary",
          onClick: () => {
            relatives = [...readRelatives(), { givenName: "", familyName: "", phone: "", relation: "" }];
            drawRelatives();
            relativesBox.querySelector("fieldset.relative:last-of-type input")?.focus();
          },
        },
        "Tilføj pårørende",
      ),
    ),
    error,
    h("button", { type: "submit" }, "Gem ændringer"),
  );
  const read = () => {
    const e = form.elements;
    const line = e.line.value.trim();
    return {
      phone: e.phone.value.trim(),
      dentist: e.dentist.value.trim(),
      preferredLanguage: e.preferredLanguage.value,
      temporaryAddress: line
        ? { line, postalCode: e.postalCode.value.trim(), city: e.city.value.trim(), municipalityCode: address.municipalityCode, endDate: e.endDate.value }
        : null,
      relatives: readRelatives(),
    };
  };
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    onSave(read(), error);
  });
  return { form, read };
}

function newerValues(card) {
  return facts([
    ["Telefonnummer", card.phone || "Ikke oplyst"],
    ["Tandlæge", card.dentist || "Ikke oplyst"],
    ["Foretrukket sprog", card.preferredLanguage ? say("Language", card.preferredLanguage) : "Ikke oplyst"],
    ["Midlertidig adresse", card.temporaryAddress?.address || "Ingen"],
    ["Pårørende", card.relatives.map((r) => [r.givenName, r.familyName].filter(Boolean).join(" ")).join(", ") || "Ingen"],
  ]);
}

export async function render(main, ctx) {
  const result = await ctx.run("MasterCard", ctx.patientVariables());
  const card = result.data.patient?.masterCard;
  if (!card) {
    replace(main, pageTitle(title), sectionNotices(ctx, result, ["patient"], null));
    return;
  }
  let base = valuesOf(card);
  let version = card.version;
  const versionLine = h("p", { class: "version", id: "stamkort-version" }, `Version: ${version}`);
  const conflict = h("div", {});
  const status = h("div", { class: "status-line", role: "status" });
  const holder = h("div", {});

  const save = async (now, error) => {
    error.textContent = "";
    const changes = changesBetween(base, now);
    if (!Object.keys(changes).length) {
      status.textContent = "Du har ikke ændret noget.";
      return;
    }
    let answer;
    try {
      answer = await ctx.run("UpdateMasterCard", { cpr: ctx.patient.cpr, version, changes }, "MasterCard");
    } catch (failure) {
      ctx.failed(failure, error);
      markInvalid(failure.argument); // bad input is refused before anything runs: the field it names
      return;
    }
    const updated = answer.data.updateMasterCard;
    if (updated) {
      base = valuesOf(updated);
      version = updated.version;
      versionLine.textContent = `Version: ${version}`;
      replace(conflict);
      status.textContent = `Stamkortet er gemt. Det har nu version ${version}.`;
      return;
    }
    const failure = answer.errors[0]?.extensions || {};
    if (failure.code === "VERSION_CONFLICT") {
      await resolveConflict(now);
      return;
    }
    error.textContent = failure.code === "BAD_USER_INPUT" ? `${argumentText(failure.argument)} er ikke udfyldt rigtigt.` : errorText(failure.code);
    markInvalid(failure.argument);
  };

  /** Mark the form's input for `argument` (`changes.phone`, `changes.temporaryAddress.line`) as invalid, and focus it. */
  const markInvalid = (argument) => {
    const name = (argument || "").split(".").pop();
    const input = FIELDS.includes(name) || name === "line" ? holder.querySelector(`[name="${name}"]`) : null;
    input?.setAttribute("aria-invalid", "true");
    input?.focus();
  };

  const draw = (values) => {
    const { form } = cardForm(values, save);
    replace(holder, form);
  };

  const resolveConflict = async (typed) => {
    const fresh = (await ctx.run("MasterCard", ctx.patientVariables())).data.patient?.masterCard;
    if (!fresh) {
      replace(conflict, viewNotice("error", "Fejl:", "Stamkortet kunne ikke hentes igen. Prøv igen om lidt."));
      return;
    }
    const edited = FIELDS.filter((key) => !same(base[key], typed[key]));
    base = valuesOf(fresh);
    version = fresh.version;
    versionLine.textContent = `Version: ${version}`;
    const merged = { ...base };
    for (const key of edited) merged[key] = typed[key];
    const headingId = uid("konflikt");
    replace(
      conflict,
      h(
        "section",
        { class: "notice notice-warn", "aria-labelledby": headingId },
        h("h2", { id: headingId, tabindex: "-1", text: "Stamkortet er blevet ændret" }),
        h("p", {}, `Nogen har ændret stamkortet, siden du hentede det. Det nyeste (version ${version}) er:`),
        newerValues(fresh),
        h("p", {}, "Dine ændringer står stadig i formularen. Tryk på »Gem ændringer« for at gemme dem oven på den nyeste version."),
      ),
    );
    draw(merged);
    status.textContent = "";
    conflict.querySelector("h2").focus();
  };

  replace(
    main,
    pageTitle(title),
    h("p", {}, "Fælles Stamkort deles med dine behandlere: telefon, midlertidig adresse, tandlæge, sprog og pårørende."),
    versionLine,
    conflict,
    holder,
    status,
  );
  draw(base);
}
