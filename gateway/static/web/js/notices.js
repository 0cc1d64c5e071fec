// What a section says besides its data: refusals, blocks that hold something back (withheld), and
// sources that did not answer. And the værdispring dialog a professional overrides blocks with.

import { h, uid } from "./dom.js";
import { choices, errorText, say } from "./texts.js";

function notice(kind, title, text, ...actions) {
  return h(
    "div",
    { class: `notice notice-${kind}` },
    h("p", {}, h("strong", { text: `${title} ` }), text),
    actions.length ? h("p", { class: "actions" }, actions) : null,
  );
}

function overrideButton(ctx) {
  return h("button", { type: "button", class: "secondary", onClick: () => ctx.requestOverride() }, "Værdispring …");
}

/**
 * The notices of one section: errors at `path` (e.g. ["patient", "appointments"]) except those under
 * the `except` sub-path, `withheld`, and each source of `value.sources` that did not answer. A
 * professional gets the værdispring button where the patient's blocks hold something back.
 */
export function sectionNotices(ctx, result, path, value, except = null) {
  const shown = [];
  const listed = new Set((value?.sources || []).map((status) => status.source));
  const elsewhere = new Set(except ? result.errorsAt([...path, ...except]) : []);
  for (const error of result.errorsAt(path)) {
    if (elsewhere.has(error)) continue;
    const code = error.extensions?.code;
    const source = error.extensions?.source;
    if (source && listed.has(source)) continue; // told below, with the source's state
    if (code === "CONSENT_DENIED") {
      const canOverride = error.extensions?.overridable && ctx.canOverride;
      shown.push(notice("blocked", "Spærret:", errorText(code), canOverride ? overrideButton(ctx) : null));
    } else {
      shown.push(notice(source ? "warn" : "error", "Bemærk:", errorText(code, source)));
    }
  }
  if (value?.withheld) {
    shown.push(
      notice(
        "blocked",
        "Tilbageholdt:",
        "Noget vises ikke, fordi patienten har spærret for det (Min Spærring).",
        ctx.canOverride ? overrideButton(ctx) : null,
      ),
    );
  }
  const missing = (value?.sources || []).filter((status) => status.state !== "OK");
  if (missing.length) {
    shown.push(
      notice(
        "warn",
        "Listen er måske ikke komplet:",
        h("ul", {}, missing.map((status) => h("li", {}, h("code", { text: status.source }), ` ${say("SourceState", status.state)}`))),
      ),
    );
  } else if (value && value.complete === false) {
    shown.push(notice("warn", "Listen er måske ikke komplet:", "En kilde svarede ikke fuldt ud."));
  }
  return shown;
}

/** A short notice for a whole view (e.g. a refused patient). */
export function viewNotice(kind, title, text) {
  return notice(kind, title, text);
}

/**
 * The værdispring dialog: ground and reason (10–500 characters). Resolves to {ground, reason},
 * or null when cancelled. The caller re-runs its query with the override.
 */
export function askForOverride() {
  const titleId = uid("vaerdispring");
  const reasonId = uid("begrundelse");
  const errorId = `${reasonId}-fejl`;
  const reason = h("textarea", {
    id: reasonId,
    name: "reason",
    rows: 3,
    minlength: 10,
    maxlength: 500,
    required: true,
    "aria-describedby": `${reasonId}-hint ${errorId}`,
  });
  const error = h("p", { class: "field-error", id: errorId, "aria-live": "polite" });
  const grounds = choices("OverrideGround").map(([value, text], index) => {
    const id = uid("grundlag");
    return h(
      "div",
      { class: "choice" },
      h("input", { type: "radio", name: "ground", id, value, checked: index === 0 }),
      h("label", { for: id, text }),
    );
  });
  const form = h(
    "form",
    { method: "dialog", novalidate: true }, // checked below, with a Danish message
    h("h2", { id: titleId, text: "Værdispring" }),
    h(
      "p",
      {},
      "Du kan se oplysninger, patienten har spærret for, når patienten giver samtykke, eller når patienten ikke kan kontaktes, og oplysningerne er nødvendige for behandlingen nu. Værdispringet gælder kun dine forespørgsler nu, og det vises i patientens log (Min Log) med grundlag og begrundelse.",
    ),
    h("fieldset", {}, h("legend", { text: "Grundlag" }), grounds),
    h(
      "div",
      { class: "field" },
      h("label", { for: reasonId, text: "Begrundelse" }),
      h("p", { class: "hint", id: `${reasonId}-hint`, text: "Skriv hvorfor, med 10 til 500 tegn." }),
      reason,
      error,
    ),
    h(
      "p",
      { class: "actions" },
      h("button", { type: "submit", value: "ok" }, "Foretag værdispring"),
      h("button", { type: "submit", value: "cancel", class: "secondary", formnovalidate: true }, "Annuller"),
    ),
  );
  const dialog = h("dialog", { "aria-labelledby": titleId, class: "dialog" }, form);
  document.body.append(dialog);
  return new Promise((resolve) => {
    form.addEventListener("submit", (event) => {
      if (event.submitter?.value !== "ok") return;
      const text = reason.value.trim();
      if (text.length < 10 || text.length > 500) {
        event.preventDefault();
        error.textContent = "Begrundelsen skal være mellem 10 og 500 tegn.";
        reason.setAttribute("aria-invalid", "true");
        reason.focus();
      }
    });
    dialog.addEventListener("close", () => {
      const confirmed = dialog.returnValue === "ok";
      const ground = form.elements.ground.value;
      dialog.remove();
      resolve(confirmed ? { ground, reason: reason.value.trim() } : null);
    });
    dialog.showModal();
  });
}

/**
 * A yes/no question in a modal dialog; resolves true when confirmed. The question confirms something
 * that cannot be undone, so focus starts on "Annuller": Enter or Escape right away changes nothing.
 */
export function confirmDialog(heading, text, confirmLabel) {
  const titleId = uid("spoergsmaal");
  const textId = uid("spoergsmaal-tekst");
  const form = h(
    "form",
    { method: "dialog" },
    h("h2", { id: titleId, text: heading }),
    h("p", { id: textId, text }),
    h(
      "p",
      { class: "actions" },
      h("button", { type: "submit", value: "ok" }, confirmLabel),
      h("button", { type: "submit", value: "cancel", class: "secondary", autofocus: true }, "Annuller"),
    ),
  );
  const dialog = h("dialog", { "aria-labelledby": titleId, "aria-describedby": textId, class: "dialog" }, form);
  document.body.append(dialog);
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => {
      dialog.remove();
      resolve(dialog.returnValue === "ok");
    });
    dialog.showModal();
  });
}
