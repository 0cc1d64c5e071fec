// Min Log: who read or changed the patient's data, in plain Danish, newest first; paged, filtered
// by date, with overrides (værdispring) marked. The entry's `summary` is the gateway's own Danish
// sentence (it tells an override's ground and reason too); the page adds a mark and the details.

import { Refused } from "../api.js";
import { facts, field, formatDateTime, formatDate, h, pageTitle, replace } from "../dom.js";
import { FormMessages } from "../forms.js";
import { sectionNotices } from "../notices.js";

export const title = "Min Log";
const PAGE = 10;

/** The dates chosen for the patient `cpr`; another patient starts without them. */
const chosen = { cpr: null, from: "", to: "" };

function entry(e) {
  const overridden = e.override !== null;
  return h(
    "li",
    { class: `log-entry${overridden ? " override" : ""}${e.outcome === "REFUSED" ? " refused" : ""}` },
    h(
      "p",
      { class: "when" },
      h("time", { datetime: e.at }, formatDateTime(e.at)),
      overridden ? h("span", { class: "badge badge-override" }, "Værdispring") : null,
      e.outcome === "REFUSED" ? h("span", { class: "badge" }, "Afvist") : null,
      e.outcome === "UNCONFIRMED" ? h("span", { class: "badge" }, "Ikke bekræftet") : null,
      e.activity === "WRITE" ? h("span", { class: "badge" }, "Ændring") : null,
    ),
    h("p", { class: "summary" }, e.summary),
    h(
      "details",
      {},
      h("summary", {}, "Detaljer"),
      facts([
        ["Hvem", e.who],
        ["Rolle", e.role],
        ["Organisation", e.organisationName],
        ["Fagsystem", e.system],
        ["På vegne af", e.onBehalfOf],
        ["Hvad", e.what.join(", ")],
        ["Værdispring", overridden ? e.override.groundText : null],
        ["Begrundelse", overridden ? e.override.reason : null],
      ]),
    ),
  );
}

/** A date the gateway refused: at its field, with the reason, and no list (it would not be the one asked for). */
function refusedDate(error, results, messages) {
  if (error?.extensions?.code !== "BAD_USER_INPUT") return false;
  messages.refused(error);
  replace(results);
  return true;
}

async function load(ctx, results, cursors, messages) {
  const after = cursors.at(-1);
  results.setAttribute("aria-busy", "true");
  let result;
  try {
    result = await ctx.run("AccessLog", {
      cpr: ctx.patient.cpr,
      from: chosen.from || null,
      to: chosen.to || null,
      first: PAGE,
      after,
    });
  } catch (error) {
    results.removeAttribute("aria-busy");
    if (error instanceof Refused && refusedDate(error.error, results, messages)) return;
    throw error;
  }
  const log = result.data.patient?.accessLog;
  results.removeAttribute("aria-busy");
  if (!log && refusedDate(result.find("BAD_USER_INPUT"), results, messages)) return;
  const notices = sectionNotices(ctx, result, ["patient"], null);
  if (!log) {
    replace(results, notices);
    return;
  }
  const page = cursors.length;
  const go = (next) => () => load(ctx, results, next, messages).catch((error) => ctx.failed(error, results));
  replace(
    results,
    notices,
    h("h2", { text: `Adgange ${formatDate(log.from)} – ${formatDate(log.to)}` }),
    log.nodes.length ? h("ol", { class: "log" }, log.nodes.map(entry)) : h("p", { class: "empty" }, "Ingen adgange i perioden."),
    h(
      "nav",
      { class: "pager", "aria-label": "Sider i Min Log" },
      h("button", { type: "button", class: "secondary", disabled: page === 1, onClick: go(cursors.slice(0, -1)) }, "Forrige side"),
      h("span", { "aria-current": "page" }, `Side ${page} af ${Math.max(1, Math.ceil(log.totalCount / PAGE))}`),
      h(
        "button",
        { type: "button", class: "secondary", disabled: !log.pageInfo.hasNextPage, onClick: go([...cursors, log.pageInfo.endCursor]) },
        "Næste side",
      ),
    ),
  );
  const overrides = log.nodes.filter((e) => e.override).length;
  ctx.announce(`Side ${page}: ${log.nodes.length} af ${log.totalCount} adgange${overrides ? `, heraf ${overrides} med værdispring` : ""}.`);
}

export async function render(main, ctx) {
  if (chosen.cpr !== ctx.patient.cpr) Object.assign(chosen, { cpr: ctx.patient.cpr, from: "", to: "" });
  const results = h("div", { class: "results" });
  const [fromField, fromInput] = field("Fra dato", { type: "date", name: "fra", value: chosen.from });
  const [toField, toInput] = field("Til dato", { type: "date", name: "til", value: chosen.to });
  const summary = h("p", { class: "field-error", "aria-live": "polite" });
  const inputs = { from: fromInput, to: toInput };
  const messages = new FormMessages(summary, null, (path) => inputs[path] || null);
  const form = h(
    "form",
    {
      class: "controls card",
      "aria-label": "Filtrér efter dato",
      novalidate: true, // checked here and by the gateway, with Danish messages at the field
      onSubmit: (event) => {
        event.preventDefault();
        messages.clear();
        if (fromInput.value && toInput.value && toInput.value < fromInput.value) {
          messages.field(toInput, "Til-datoen må ikke ligge før fra-datoen.");
          return;
        }
        chosen.from = fromInput.value;
        chosen.to = toInput.value;
        load(ctx, results, [null], messages).catch((error) => ctx.failed(error, results));
      },
    },
    h("div", { class: "date-row" }, fromField, toField, h("button", { type: "submit" }, "Vis")),
    summary,
  );
  replace(
    main,
    pageTitle(title),
    h("p", {}, "Her kan du se, hvem der har set eller ændret dine oplysninger gennem patientoverblikket. Adgange gemmes i to år."),
    form,
    results,
  );
  await load(ctx, results, [null], messages);
}
