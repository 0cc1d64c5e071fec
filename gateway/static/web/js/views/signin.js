// Sign-in. In the demo: a persona picker that asks the sandbox's token issuer for a token. Outside
// it: the token comes from the host application or an OIDC redirect (docs/web.md); a developer may
// paste one.

import { demoIssuer, setToken, signInDemo } from "../api.js";
import { field, formatCpr, h, pageTitle, replace } from "../dom.js";
import { viewNotice } from "../notices.js";

export const title = "Log ind";

function form(legend, controls, button, onSubmit) {
  const error = h("p", { class: "field-error", "aria-live": "polite" });
  return h(
    "form",
    {
      class: "card",
      onSubmit: async (event) => {
        event.preventDefault();
        error.textContent = "";
        try {
          await onSubmit();
        } catch (failure) {
          error.textContent = failure.message;
        }
      },
    },
    h("fieldset", {}, h("legend", { text: legend }), controls, error),
    h("button", { type: "submit" }, button),
  );
}

function citizenForm(ctx, directory) {
  const [wrapper, select] = field("Borger", { tag: "select", name: "cpr" });
  for (const persona of directory.personas) {
    select.append(h("option", { value: persona.cpr }, `${persona.name} (${formatCpr(persona.cpr)})`));
  }
  return form("Log ind som borger", wrapper, "Log ind som borger", async () => {
    await signInDemo({ actor_kind: "citizen", cpr: select.value });
    await ctx.signedIn();
  });
}

function professionalForm(ctx, directory) {
  const [wrapper, select] = field("Sundhedsperson", { tag: "select", name: "authorization_id" });
  for (const professional of directory.professionals) {
    const where = [professional.profession, professional.organisation_name].filter(Boolean).join(", ");
    select.append(
      h("option", { value: professional.authorization_id }, `${professional.name} – ${where} (${professional.authorization_id})`),
    );
  }
  return form("Log ind som sundhedsperson", wrapper, "Log ind som sundhedsperson", async () => {
    await signInDemo({ actor_kind: "professional", authorization_id: select.value });
    await ctx.signedIn();
  });
}

function tokenForm(ctx) {
  const [wrapper, input] = field("Adgangsnøgle (bearer token)", { tag: "textarea", rows: 3, name: "token", required: true });
  return h(
    "details",
    {},
    h("summary", {}, "For udviklere: indsæt en adgangsnøgle"),
    form("Adgangsnøgle", wrapper, "Brug adgangsnøglen", async () => {
      setToken(input.value.trim());
      await ctx.signedIn();
    }),
  );
}

export async function render(main, ctx, message) {
  const notice = message ? viewNotice("warn", "Bemærk:", message) : null;
  if (!demoIssuer()) {
    replace(
      main,
      pageTitle(title),
      notice,
      h(
        "p",
        {},
        "Du logger ind via din organisations eller MitID's login. Siden får sin adgangsnøgle fra den applikation, den er en del af, eller efter login (se docs/web.md).",
      ),
      tokenForm(ctx),
    );
    return;
  }
  const directory = await ctx.directory();
  replace(
    main,
    pageTitle(title),
    notice,
    h(
      "p",
      { class: "demo" },
      "Demo: vælg en person. Siden beder demoens udsteder om en adgangsnøgle – det gør et rigtigt login (MitID) aldrig uden at du logger ind.",
    ),
    h("div", { class: "columns" }, citizenForm(ctx, directory), professionalForm(ctx, directory)),
    tokenForm(ctx),
  );
}
