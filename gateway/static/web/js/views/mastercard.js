// Stamkort: edit the Fælles Stamkort with the version check. The update names the version read;
// when someone changed the card since (VERSION_CONFLICT), the page shows the newer values, keeps
// what the user typed, moves to the newer version, and the user saves again.

import { Refused } from "../api.js";
import { PROTECTED, facts, field, h, pageTitle, replace, uid } from "../dom.js";
import { FormMessages } from "../forms.js";
import { sectionNotices, viewNotice } from "../notices.js";
import { choices, say } from "../texts.js";

export const title = "Stamkort";
const FIELDS = ["phone", "dentist", "preferredLanguage", "temporaryAddress", "relatives"];

/**
 * The card as form values: strings ("" for none), the address or null, the relatives. A value name and
 * address protection hides from this caller stays the placeholder (PROTECTED): the form shows it as
 * hidden, and it is unchanged unless the user writes a new value.
 */
function valuesOf(card) {
  const address = card.temporaryAddress?.postalAddress;
  const hiddenAddress = card.temporaryAddress && (!address || address.line === PROTECTED);
  return {
    phone: card.phone || "",
    dentist: card.dentist || "",
    preferredLanguage: card.preferredLanguage || "",
    temporaryAddress: hiddenAddress
      ? PROTECTED
      : address
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

const HIDDEN_HINT = "Navne- og adressebeskyttet: det nuværende vises ikke. Skriv kun her for at erstatte det.";

/** A labelled input for `value`; a value protection hides is an empty input that says so. */
function valueField(label, attrs, value, hint = null) {
  if (value !== PROTECTED) return field(label, { ...attrs, value }, hint);
  const [wrapper, input] = field(label, { ...attrs, placeholder: "Navne- og adressebeskyttet", dataset: { hidden: "true" } }, HIDDEN_HINT);
  return [wrapper, input];
}

/** What `input` holds: its text, or the placeholder for a hidden value the user left empty (unchanged). */
function valueOf(input) {
  const text = input.value.trim();
  return !text && input.dataset.hidden ? PROTECTED : text;
}

/** The form for `values`; `read()` gives the values as typed. `status` is the view's status line. */
function cardForm(values, onSave, status) {
  let relatives = values.relatives.map((r) => ({ ...r }));
  // Relatives protection hides cannot be replaced by this caller (the list replaces the stored one).
  const hiddenRelatives = relatives.some((r) => Object.values(r).includes(PROTECTED));
  const relativesBox = h("div", {});
  const readRelatives = () =>
    hiddenRelatives ? values.relatives : [...relativesBox.querySelectorAll("fieldset.relative")].map((set) => ({
      givenName: set.elements["relative-givenName"].value.trim(),
      familyName: set.elements["relative-familyName"].value.trim(),
      phone: set.elements["relative-phone"].value.trim(),
      relation: set.elements["relative-relation"].value.trim(),
    }));
  const drawRelatives = () => {
    if (hiddenRelatives) {
      replace(relativesBox, h("p", { class: "hint", text: "Patientens pårørende er navne- og adressebeskyttede, så de vises ikke og kan ikke ændres her." }));
      return;
    }
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
  const hiddenAddress = values.temporaryAddress === PROTECTED;
  const address = (!hiddenAddress && values.temporaryAddress) || { line: hiddenAddress ? PROTECTED : "", postalCode: "", city: "", municipalityCode: null, endDate: "" };
  const error = h("div", { class: "field-error", "aria-live": "polite" });
  const form = h(
    "form",
    { class: "card", novalidate: true }, // checked here and by the gateway, with Danish messages at the fields
    valueField("Telefonnummer", { name: "phone", type: "tel", autocomplete: "tel" }, values.phone, "8 cifre, evt. med +45 foran.")[0],
    valueField("Tandlæge", { name: "dentist" }, values.dentist)[0],
    languageField,
    h(
      "fieldset",
      {},
      h("legend", { text: "Midlertidig adresse" }),
      h("p", { class: "hint", text: "Tøm adressefeltet for at fjerne den midlertidige adresse." }),
      valueField("Adresse", { name: "line", autocomplete: "street-address" }, address.line)[0],
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
          hidden: hiddenRelatives,
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
    const line = valueOf(e.line);
    const typed = line && line !== PROTECTED;
    return {
      phone: valueOf(e.phone),
      dentist: valueOf(e.dentist),
      preferredLanguage: e.preferredLanguage.value,
      temporaryAddress: typed
        ? { line, postalCode: e.postalCode.value.trim(), city: e.city.value.trim(), municipalityCode: address.municipalityCode, endDate: e.endDate.value }
        : line || null,
      relatives: readRelatives(),
    };
  };
  /** The form's input for an argument path of MasterCardChanges ("changes.relatives.1.phone"). */
  const inputFor = (path) => {
    const parts = path.split(".");
    if (parts[0] !== "changes") return null;
    if (parts[1] === "temporaryAddress") return form.elements[parts[2] === "municipalityCode" ? "line" : parts[2] || "line"] || null;
    if (parts[1] === "relatives") {
      const set = relativesBox.querySelectorAll("fieldset.relative")[Number(parts[2] || 0)];
      return set?.elements[`relative-${parts[3] || "givenName"}`] || null;
    }
    return (parts[1] && form.elements[parts[1]]) || null;
  };
  const messages = new FormMessages(error, status, inputFor);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    messages.clear();
    check(form, relativesBox, messages);
    if (!messages.invalid) onSave(read(), messages);
  });
  return { form, read };
}

/** The form's own checks: a half-filled address or relative is refused at its field, never dropped. */
function check(form, relativesBox, messages) {
  const e = form.elements;
  const rest = [e.postalCode, e.city, e.endDate].some((input) => input.value.trim());
  if (!e.line.value.trim() && rest) {
    messages.field(e.line, "Skriv adressen – eller tøm alle felterne under »Midlertidig adresse« for at fjerne den.");
  }
  relativesBox.querySelectorAll("fieldset.relative").forEach((set, index) => {
    if (!set.elements["relative-givenName"].value.trim()) {
      messages.field(set.elements["relative-givenName"], `Skriv fornavnet – eller fjern pårørende ${index + 1}.`);
    }
  });
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

  const save = async (now, messages) => {
    const changes = changesBetween(base, now);
    if (!Object.keys(changes).length) {
      messages.status("Du har ikke ændret noget.");
      return;
    }
    let answer;
    try {
      answer = await ctx.run("UpdateMasterCard", { cpr: ctx.patient.cpr, version, changes }, "MasterCard");
    } catch (failure) {
      if (failure instanceof Refused && failure.error) messages.refused(failure.error);
      else ctx.failed(failure, messages.summary);
      return;
    }
    const updated = answer.data.updateMasterCard;
    if (updated) {
      base = valuesOf(updated);
      version = updated.version;
      versionLine.textContent = `Version: ${version}`;
      replace(conflict);
      messages.status(`Stamkortet er gemt. Det har nu version ${version}.`);
      return;
    }
    const failure = answer.errors[0];
    if (failure?.extensions?.code === "VERSION_CONFLICT") {
      await resolveConflict(now);
      return;
    }
    messages.refused(failure);
  };

  const draw = (values) => {
    const { form } = cardForm(values, save, status);
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
