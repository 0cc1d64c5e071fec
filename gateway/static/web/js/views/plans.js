// Planer, mål og diagnoser: plans with their interventions (indsatser), goals by kind with their
// sub-goals (delmål), and diagnoses with code and text.

import { facts, formatDate, formatPeriod, h, pageTitle, replace } from "../dom.js";
import { sectionNotices } from "../notices.js";
import { choices, say } from "../texts.js";
import { section } from "./overview.js";

export const title = "Planer, mål og diagnoser";

function intervention(i) {
  return h(
    "li",
    {},
    h("p", { class: "title" }, i.description, i.code ? h("span", { class: "code" }, ` (${i.code.code}${i.code.display && i.code.display !== i.description ? ` ${i.code.display}` : ""})`) : null),
    h("p", { class: "detail" }, [formatPeriod(i.period), i.performer?.name, say("FhirStatus", i.status)].filter(Boolean).join(" · ")),
  );
}

function plan(p) {
  return h(
    "article",
    { class: "item" },
    h("h3", { text: p.title }),
    p.description ? h("p", {}, p.description) : null,
    facts([
      ["Ansvarlig", p.organisation.name],
      ["Periode", formatPeriod(p.period)],
      ["Type", p.category?.display],
      ["Status", say("FhirStatus", p.status)],
    ]),
    p.interventions.length
      ? [h("h4", { text: "Indsatser" }), h("ul", { class: "interventions" }, p.interventions.map(intervention))]
      : h("p", { class: "empty" }, "Ingen indsatser"),
  );
}

function goalLine(g) {
  const details = [g.profession, say("FhirStatus", g.achievement), g.due ? `måldato ${formatDate(g.due)}` : null, say("FhirStatus", g.status)].filter(Boolean);
  return [h("p", { class: "title" }, g.description), details.length ? h("p", { class: "detail" }, details.join(" · ")) : null];
}

function goals(items) {
  const ids = new Set(items.map((g) => g.id));
  const overall = items.filter((g) => !g.partOfId || !ids.has(g.partOfId));
  return choices("GoalKind").map(([kind, label]) => {
    const ofKind = overall.filter((g) => g.kind === kind);
    return [
      h("h3", { text: label }),
      ofKind.length
        ? h(
            "ul",
            { class: "goals" },
            ofKind.map((g) =>
              h(
                "li",
                {},
                goalLine(g),
                h("p", { class: "detail" }, g.organisation.name),
                g.subGoals.length
                  ? h("div", { class: "subgoals" }, h("p", { class: "label" }, "Delmål"), h("ul", {}, g.subGoals.map((s) => h("li", {}, goalLine(s)))))
                  : null,
              ),
            ),
          )
        : h("p", { class: "empty" }, "Ingen"),
    ];
  });
}

function diagnoses(items) {
  if (!items.length) return h("p", { class: "empty" }, "Ingen diagnoser");
  return h(
    "table",
    {},
    h("caption", { class: "visually-hidden" }, "Diagnoser"),
    h("thead", {}, h("tr", {}, ["Kode", "Diagnose", "Siden", "Registreret af"].map((text) => h("th", { scope: "col", text })))),
    h(
      "tbody",
      {},
      items.map((d) =>
        h(
          "tr",
          {},
          h("td", {}, h("span", { class: "code" }, d.code), h("br"), h("span", { class: "detail" }, say("DiagnosisCodeSystem", d.codeSystem))),
          h("td", {}, d.display, d.clinicalStatus ? h("span", { class: "detail" }, ` (${say("FhirStatus", d.clinicalStatus)})`) : null),
          h("td", {}, formatDate(d.onset || d.recorded)),
          h("td", {}, d.organisation.name),
        ),
      ),
    ),
  );
}

/** A note when the page holds only the newest of a longer list. */
function more(list, what) {
  return list.pageInfo.hasNextPage ? h("p", { class: "detail" }, `Viser de ${list.nodes.length} nyeste af ${list.totalCount} ${what}.`) : null;
}

export async function render(main, ctx) {
  const result = await ctx.run("Plans", ctx.patientVariables());
  const patient = result.data.patient;
  const notes = (key) => sectionNotices(ctx, result, ["patient", key], patient?.[key]);
  if (!patient) {
    replace(main, pageTitle(title), sectionNotices(ctx, result, ["patient"], null));
    return;
  }
  const { plans: p, goals: g, diagnoses: d } = patient;
  replace(
    main,
    pageTitle(title),
    section("Planer", notes("plans"), p ? [more(p, "planer"), p.nodes.length ? p.nodes.map(plan) : h("p", { class: "empty" }, "Ingen planer")] : null),
    section("Mål", notes("goals"), g ? [more(g, "mål"), goals(g.nodes)] : null),
    section("Diagnoser", notes("diagnoses"), d ? [more(d, "diagnoser"), diagnoses(d.nodes)] : null),
  );
  const counts = [p && `${p.nodes.length} af ${p.totalCount} planer`, g && `${g.nodes.length} af ${g.totalCount} mål`, d && `${d.nodes.length} af ${d.totalCount} diagnoser`].filter(Boolean);
  ctx.announce(`Hentet: ${counts.join(", ")}.`);
}
