// What a form tells after a submit: a message under each field that is wrong (the page's own check,
// or the gateway's BAD_USER_INPUT at the argument it names), one line for the form as a whole, and a
// status line for what the submit did. Every submit starts with `clear()`, so nothing an earlier
// submit said stays next to what this one says.

import { h, uid } from "./dom.js";
import { argumentPath, argumentText, errorText, inputReason } from "./texts.js";

export class FormMessages {
  /**
   * `summary`: the form's own error line (aria-live); `status`: its status line (role=status), or null.
   * `inputFor(path)`: the form's input for an argument path ("changes.phone", "from"), or null.
   */
  constructor(summary, status = null, inputFor = () => null) {
    this.summary = summary;
    this.statusLine = status;
    this.inputFor = inputFor;
    this.shown = [];
  }

  /** Before a submit: no field message, no summary, no status left from the last submit. */
  clear() {
    for (const { input, message, describedBy } of this.shown) {
      message.remove();
      input.removeAttribute("aria-invalid");
      if (describedBy) input.setAttribute("aria-describedby", describedBy);
      else input.removeAttribute("aria-describedby");
    }
    this.shown = [];
    this.summary.textContent = "";
    if (this.statusLine) this.statusLine.textContent = "";
  }

  /** What the submit did. */
  status(text) {
    if (this.statusLine) this.statusLine.textContent = text;
  }

  /** `text` under `input`, which is marked invalid and described by it; the first such field takes focus. */
  field(input, text) {
    const id = uid("fejl");
    const message = h("p", { class: "field-error", id, text });
    const describedBy = input.getAttribute("aria-describedby");
    (input.closest(".field") || input.parentElement).append(message);
    input.setAttribute("aria-invalid", "true");
    input.setAttribute("aria-describedby", [describedBy, id].filter(Boolean).join(" "));
    if (!this.shown.length) input.focus();
    this.shown.push({ input, message, describedBy });
    this.summary.textContent = "Ret de markerede felter.";
  }

  /** True when a field message was shown (the form's own checks found something). */
  get invalid() {
    return this.shown.length > 0;
  }

  /**
   * A refusal from the gateway (a GraphQL error object): a BAD_USER_INPUT at the field its argument
   * names, with the reason in Danish; any other code, or an argument no field has, on the summary.
   */
  refused(error) {
    const code = error?.extensions?.code || "INTERNAL_ERROR";
    const argument = error?.extensions?.argument;
    if (code !== "BAD_USER_INPUT" || !argument) {
      this.summary.textContent = errorText(code);
      return;
    }
    const reason = inputReason(argument, error.message) || "Feltet er ikke udfyldt rigtigt.";
    const input = inputOf(this.inputFor, argumentPath(argument));
    if (input) this.field(input, reason);
    else this.summary.textContent = `${argumentText(argument)}: ${reason}`;
  }
}

/** The input for `path` or, failing that, for the nearest path above it ("changes.temporaryAddress.municipalityCode" → …). */
function inputOf(inputFor, path) {
  const parts = path.split(".");
  while (parts.length) {
    const input = inputFor(parts.join("."));
    if (input) return input;
    parts.pop();
  }
  return null;
}
