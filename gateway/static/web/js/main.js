// The page's shell: session, header, menu, the værdispring banner and hash routing (#/aftaler …).
// Each view is a module with `title` and `render(main, ctx)`; `ctx` is what views may use.

import { Refused, SignedOut, demoDirectory, demoIssuer, loadConfig, run, setToken, token, tokenFromFragment } from "./api.js";
import { PROTECTED, formatCpr, h, pageTitle, plainText, replace } from "./dom.js";
import { askForOverride, viewNotice } from "./notices.js";
import { argumentPath, argumentText, inputReason, say } from "./texts.js";
import * as accessLog from "./views/accesslog.js";
import * as appointments from "./views/appointments.js";
import * as blocks from "./views/blocks.js";
import * as choose from "./views/choose.js";
import * as masterCard from "./views/mastercard.js";
import * as overview from "./views/overview.js";
import * as plans from "./views/plans.js";
import * as signin from "./views/signin.js";

const PATIENT_KEY = "patientoverblik.patient";
const views = {
  "log-ind": signin,
  vaelg: choose,
  oversigt: overview,
  aftaler: appointments,
  planer: plans,
  stamkort: masterCard,
  "min-log": accessLog,
  "min-spaerring": blocks,
};
const menu = [
  ["oversigt", "Overblik"],
  ["aftaler", "Aftaler"],
  ["planer", "Planer, mål og diagnoser"],
  ["stamkort", "Stamkort"],
  ["min-log", "Min Log", "citizen"],
  ["min-spaerring", "Min Spærring", "citizen"],
];

const state = { me: null, patient: null, override: null, directory: null, actsFor: null, message: null };
const main = document.getElementById("indhold");

const ctx = {
  get me() {
    return state.me;
  },
  get patient() {
    return state.patient;
  },
  get override() {
    return state.override;
  },
  get isCitizen() {
    return state.me?.kind === "CITIZEN";
  },
  /** Only an authorised professional may override (not an assistant or a vendor system). */
  get canOverride() {
    return state.me?.kind === "PROFESSIONAL" && !state.me.assistantName;
  },
  /** The patient and the override every patient query sends. */
  patientVariables() {
    return { cpr: state.patient.cpr, override: state.override };
  },
  run,
  announce,
  navigate,
  /** Show a failed request in `container` (the whole view signs out on HTTP 401). */
  failed(error, container) {
    if (error instanceof SignedOut) return signOut(error.message);
    container.removeAttribute("aria-busy");
    if (!(error instanceof Refused)) console.error(error);
    let text = error instanceof Refused ? error.message : "Der skete en fejl. Prøv igen om lidt.";
    const argument = error instanceof Refused && error.code === "BAD_USER_INPUT" ? error.error?.extensions?.argument : null;
    if (argument) text = `${argumentText(argument)}: ${inputReason(argument, error.error.message) || "er ikke udfyldt rigtigt."}`;
    // A patient's CPR number the gateway refused: the way back is to pick another.
    const back = argument && argumentPath(argument) === "cpr" ? h("a", { href: "#/vaelg" }, ctx.isCitizen ? "Vælg en anden person" : "Vælg en anden patient") : null;
    replace(container, viewNotice("error", "Fejl:", [text, back ? " " : null, back]));
    announce(text);
  },
  /** The demo issuer's listing of personas, professionals and relations (cached). */
  async directory() {
    if (!demoIssuer()) return null;
    state.directory ||= await demoDirectory();
    return state.directory;
  },
  /** Whom the signed-in citizen may act for (`me.actsFor`, cached); empty for everyone else. */
  async actsFor() {
    if (!ctx.isCitizen) return [];
    state.actsFor ||= (await run("ActsFor")).data.me.actsFor.nodes;
    return state.actsFor;
  },
  async signedIn() {
    state.actsFor = null;
    await loadMe();
    state.override = null;
    // Known before the header shows its menu, so the first view cannot replace one the user picked.
    const picker = !ctx.isCitizen || (await hasRelations());
    const self = ctx.isCitizen ? { cpr: state.me.cpr, name: state.me.name } : null;
    setPatient(self);
    navigate(picker ? "vaelg" : "oversigt");
  },
  choosePatient(patient) {
    state.override = null;
    setPatient(patient);
    navigate("oversigt");
  },
  /**
   * Name the patient in the header once a query has read it. A name protection hides from this
   * caller (PROTECTED) takes away a name the page had from elsewhere (the demo's persona list).
   */
  patientName(name) {
    if (!state.patient || !name) return;
    const shown = name === PROTECTED ? null : name;
    if (state.patient.name !== shown) setPatient({ ...state.patient, name: shown });
  },
  async requestOverride() {
    const chosen = await askForOverride();
    if (!chosen) return;
    state.override = chosen;
    announce("Værdispring er aktivt. Oplysningerne hentes igen.");
    await render();
  },
};

async function hasRelations() {
  try {
    return (await ctx.actsFor()).length > 0;
  } catch (error) {
    if (error instanceof SignedOut) throw error;
    return true; // the picker shows the CPR field when the listing cannot be had
  }
}

function setPatient(patient) {
  state.patient = patient;
  if (patient) sessionStorage.setItem(PATIENT_KEY, JSON.stringify(patient));
  else sessionStorage.removeItem(PATIENT_KEY);
  renderHeader();
}

async function loadMe() {
  const result = await run("Me");
  state.me = result.data.me;
  if (state.me.kind === "ANONYMOUS") {
    state.me = null;
    setToken(null);
  }
}

function announce(text) {
  const status = document.getElementById("status");
  status.textContent = "";
  window.setTimeout(() => {
    status.textContent = plainText(text);
  }, 50);
}

function navigate(route) {
  if (location.hash === `#/${route}`) render();
  else location.hash = `#/${route}`;
}

function signOut(message = null) {
  setToken(null);
  state.me = null;
  state.override = null;
  state.message = message;
  setPatient(null);
  navigate("log-ind");
}

function describeMe(me) {
  if (me.kind === "CITIZEN") return `${me.name || formatCpr(me.cpr)} (borger)`;
  const acting = me.assistantName ? `${me.assistantName}, medhjælp for ${me.name}` : me.name || me.authorizationId;
  const where = [me.profession, me.organisationName].filter(Boolean).join(", ");
  return where ? `${acting} (${where})` : acting;
}

function renderHeader() {
  const who = document.getElementById("who");
  const nav = document.getElementById("nav");
  if (!state.me) {
    replace(who);
    nav.hidden = true;
    return;
  }
  const patient = state.patient;
  replace(
    who,
    h("p", {}, "Logget ind som ", h("strong", { text: describeMe(state.me) })),
    patient
      ? h(
          "p",
          {},
          ctx.isCitizen && patient.cpr === state.me.cpr ? "Viser dine egne oplysninger" : "Viser oplysninger om ",
          ctx.isCitizen && patient.cpr === state.me.cpr ? null : h("strong", { text: patient.name || formatCpr(patient.cpr) }),
          patient.name && !(ctx.isCitizen && patient.cpr === state.me.cpr) ? ` (${formatCpr(patient.cpr)})` : null,
        )
      : null,
    h(
      "p",
      { class: "actions" },
      h("a", { href: "#/vaelg" }, ctx.isCitizen ? "Skift person" : "Vælg patient"),
      h("button", { type: "button", class: "link", onClick: () => signOut() }, "Log ud"),
    ),
  );
  const current = routeName();
  nav.hidden = !patient;
  replace(
    nav,
    h(
      "ul",
      {},
      menu
        .filter(([, , only]) => only !== "citizen" || ctx.isCitizen)
        .map(([route, label]) =>
          h("li", {}, h("a", { href: `#/${route}`, "aria-current": route === current ? "page" : null }, label)),
        ),
    ),
  );
}

function renderBanner() {
  const slot = document.getElementById("banner");
  if (!state.override) {
    replace(slot);
    return;
  }
  replace(
    slot,
    h(
      "div",
      { class: "banner", role: "region", "aria-label": "Værdispring" },
      h("p", {}, h("strong", { text: "Værdispring er aktivt. " }), `Grundlag: ${say("OverrideGround", state.override.ground)}. `),
      h("p", {}, `Begrundelse: “${state.override.reason}”. Dine forespørgsler registreres i patientens log.`),
      h(
        "button",
        {
          type: "button",
          class: "secondary",
          onClick: async () => {
            state.override = null;
            announce("Værdispringet er afsluttet.");
            await render();
          },
        },
        "Afslut værdispring",
      ),
    ),
  );
}

function routeName() {
  const name = location.hash.replace(/^#\/?/, "");
  return name in views ? name : "oversigt";
}

let renders = 0;

/**
 * Draw the view the address names. Each render draws into its own element: a render that a newer
 * one overtook (the user moved on while it waited for the gateway) draws into a detached element.
 */
async function render() {
  const mine = ++renders;
  let name = routeName();
  if (!state.me) name = "log-ind";
  else if (!state.patient && name !== "vaelg") name = "vaelg";
  else if (!ctx.isCitizen && (name === "min-log" || name === "min-spaerring")) name = "oversigt";
  const view = views[name];
  renderHeader();
  renderBanner();
  document.title = `${view.title} – Patientoverblik`;
  const root = h("div", { class: "view", "aria-busy": "true" }, pageTitle(view.title), h("p", { class: "loading", text: "Henter oplysninger …" }));
  replace(main, root);
  root.querySelector("h1").focus();
  try {
    const message = state.message;
    state.message = null;
    await view.render(root, ctx, message);
  } catch (error) {
    if (mine !== renders) return;
    if (error instanceof SignedOut) return signOut(error.message);
    ctx.failed(error, root);
    root.prepend(pageTitle(view.title));
  } finally {
    root.removeAttribute("aria-busy");
  }
  const heading = root.querySelector("h1");
  if (mine === renders && heading && document.activeElement === document.body) heading.focus();
}

async function start() {
  await loadConfig();
  tokenFromFragment();
  document.getElementById("skip").addEventListener("click", (event) => {
    event.preventDefault();
    main.focus();
  });
  if (token()) {
    try {
      await loadMe();
      const saved = JSON.parse(sessionStorage.getItem(PATIENT_KEY) || "null");
      setPatient(saved || (ctx.isCitizen ? { cpr: state.me.cpr, name: state.me.name } : null));
    } catch (error) {
      if (!(error instanceof SignedOut)) throw error;
      state.message = error.message;
    }
  }
  window.addEventListener("hashchange", render);
  await render();
}

start();
