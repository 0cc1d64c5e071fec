// Aftaler: day, week and list views with a date picker and filters (sector, organisation,
// cancelled), indicative times and notes as sundhed.dk shows them, and notices when a source did
// not answer or the patient's blocks hold something back.

import {
  addDays,
  danishDate,
  field,
  formatDate,
  formatTime,
  formatWeekday,
  h,
  mondayOf,
  pageTitle,
  replace,
  today,
  uid,
} from "../dom.js";
import { sectionNotices } from "../notices.js";
import { choices, say } from "../texts.js";

export const title = "Aftaler";
const VIEWS = [
  ["day", "Dag"],
  ["week", "Uge"],
  ["list", "Liste"],
];
const LIST_DAYS = 90;
const PAGE = 20;

// Kept while the page is open, so coming back to Aftaler shows what was chosen.
const chosen = {
  view: "week",
  date: today(),
  kinds: new Set(choices("OrganisationKind").map(([kind]) => kind)),
  organisation: "",
  cancelled: false,
  organisations: new Map(),
};

function range() {
  if (chosen.view === "day") return [chosen.date, chosen.date];
  if (chosen.view === "week") return [mondayOf(chosen.date), addDays(mondayOf(chosen.date), 6)];
  return [chosen.date, addDays(chosen.date, LIST_DAYS)];
}

function filter() {
  const all = chosen.kinds.size === choices("OrganisationKind").length;
  return {
    organisationKinds: all ? null : [...chosen.kinds],
    sorIds: chosen.organisation ? [chosen.organisation] : null,
    includeCancelled: chosen.cancelled,
  };
}

function when(a, withDate) {
  const date = withDate ? `${formatWeekday(danishDate(a.start))} ` : "";
  if (a.allDay) return `${date}hele dagen`;
  const end = a.end ? `–${formatTime(a.end)}` : "";
  return `${date}${a.indicativeTime ? "ca. " : ""}kl. ${formatTime(a.start)}${end}`;
}

function appointment(a, withDate = false) {
  const cancelled = a.status === "CANCELLED";
  const heading = a.title || a.reason?.display || "Aftale";
  const place = a.location;
  return h(
    "li",
    { class: `appointment${cancelled ? " cancelled" : ""}${a.indicativeTime ? " indicative" : ""}` },
    h("p", { class: "when" }, h("span", { class: "time" }, when(a, withDate)), a.indicativeTime ? h("span", { class: "badge" }, "Vejledende tidspunkt") : null),
    h("p", { class: "title" }, heading, cancelled || !["BOOKED", "FULFILLED"].includes(a.status) ? h("span", { class: `badge status-${a.status.toLowerCase()}` }, say("AppointmentStatus", a.status)) : null),
    a.timeNote ? h("p", { class: "note" }, a.timeNote) : null,
    a.reason?.display && a.reason.display !== heading ? h("p", { class: "detail" }, a.reason.display) : null,
    h("p", { class: "organisation" }, a.organisation.name, a.organisation.kind ? h("span", { class: "sector" }, ` · ${say("OrganisationKind", a.organisation.kind)}`) : null),
    place?.atHome
      ? h("p", { class: "detail" }, "I eget hjem", place.address ? `, ${place.address}` : null)
      : place && (place.name || place.address)
        ? h("p", { class: "detail" }, [place.name === a.organisation.name ? null : place.name, place.room, place.address].filter(Boolean).join(", "))
        : null,
  );
}

function dayBlock(day, headingLevel) {
  const id = uid("dag");
  return h(
    "section",
    { class: "day", "aria-labelledby": id },
    h(headingLevel, { id, text: formatWeekday(day.date) }),
    day.appointments.length
      ? h("ul", { class: "appointments" }, day.appointments.map((a) => appointment(a)))
      : h("p", { class: "empty" }, "Ingen aftaler"),
  );
}

function remember(appointments) {
  for (const a of appointments) {
    if (a.organisation.sorId) chosen.organisations.set(a.organisation.sorId, a.organisation.name);
  }
}

function count(n) {
  return n === 1 ? "1 aftale" : `${n} aftaler`;
}

function dayView(data) {
  const day = data.days[0] || { date: chosen.date, appointments: [] };
  remember(day.appointments);
  return { body: dayBlock(day, "h2"), summary: count(day.appointments.length) };
}

function weekView(data) {
  const week = data.weeks[0];
  const days = week ? week.days : [];
  days.forEach((day) => remember(day.appointments));
  const total = days.reduce((sum, day) => sum + day.appointments.length, 0);
  const heading = week ? `Uge ${week.week}, ${formatDate(week.start)} – ${formatDate(week.end)}` : "Uge";
  return {
    body: [h("h2", { text: heading }), h("div", { class: "week" }, days.map((day) => dayBlock(day, "h3")))],
    summary: `${count(total)} i uge ${week?.week ?? ""}`,
  };
}

function groupedByDay(nodes) {
  const groups = [];
  for (const a of nodes) {
    const date = danishDate(a.start);
    if (!groups.length || groups.at(-1).date !== date) groups.push({ date, appointments: [] });
    groups.at(-1).appointments.push(a);
  }
  return groups;
}

async function listView(ctx, data, results, variables) {
  const nodes = [...data.list.nodes];
  let page = data.list.pageInfo;
  const total = data.list.totalCount;
  const list = h("div", { class: "list" });
  const more = h("button", { type: "button", class: "secondary" }, "Vis flere aftaler");
  const draw = () => {
    remember(nodes);
    replace(list, groupedByDay(nodes).map((day) => dayBlock(day, "h3")));
    more.hidden = !page.hasNextPage;
  };
  more.addEventListener("click", async () => {
    let next;
    try {
      next = await ctx.run("Appointments", { ...variables, after: page.endCursor });
    } catch (error) {
      ctx.failed(error, list);
      return;
    }
    const found = next.data.patient?.appointments?.list;
    if (!found) return;
    nodes.push(...found.nodes);
    page = found.pageInfo;
    draw();
    ctx.announce(`Viser ${nodes.length} af ${count(total)}.`);
  });
  draw();
  const [from, to] = range();
  return {
    body: [h("h2", { text: `${formatDate(from)} – ${formatDate(to)}: ${count(total)}` }), list, h("p", {}, more)],
    summary: `${count(total)} fra ${formatDate(from)}`,
  };
}

let generation = 0;

async function load(ctx, results) {
  const mine = ++generation;
  if (chosen.kinds.size === 0) {
    replace(results, h("p", { class: "empty" }, "Vælg mindst én sektor."));
    return;
  }
  const [from, to] = range();
  const variables = {
    ...ctx.patientVariables(),
    from,
    to,
    filter: filter(),
    day: chosen.view === "day",
    week: chosen.view === "week",
    list: chosen.view === "list",
    first: PAGE,
  };
  results.setAttribute("aria-busy", "true");
  const result = await ctx.run("Appointments", variables);
  if (mine !== generation) return; // a newer choice is loading
  const data = result.data.patient?.appointments;
  const notices = sectionNotices(ctx, result, ["patient", "appointments"], data);
  if (!result.data.patient) notices.push(...sectionNotices(ctx, result, ["patient"], null));
  if (!data) {
    replace(results, notices);
    results.removeAttribute("aria-busy");
    return;
  }
  const shown = chosen.view === "day" ? dayView(data) : chosen.view === "week" ? weekView(data) : await listView(ctx, data, results, variables);
  replace(results, notices, shown.body);
  results.removeAttribute("aria-busy");
  refreshOrganisations();
  ctx.announce(`${shown.summary}.${notices.length ? " Se bemærkningerne." : ""}`);
}

let organisationSelect = null;
function refreshOrganisations() {
  if (!organisationSelect) return;
  const sorted = [...chosen.organisations].sort((a, b) => a[1].localeCompare(b[1], "da"));
  replace(
    organisationSelect,
    h("option", { value: "" }, "Alle organisationer"),
    sorted.map(([sor, name]) => h("option", { value: sor, selected: sor === chosen.organisation }, name)),
  );
}

function controls(ctx, results) {
  const reload = () => load(ctx, results).catch((error) => ctx.failed(error, results));
  const viewChoices = VIEWS.map(([value, label]) => {
    const id = uid("visning");
    return h(
      "span",
      { class: "segment" },
      h("input", { type: "radio", name: "visning", id, value, checked: chosen.view === value, onChange: () => ((chosen.view = value), reload()) }),
      h("label", { for: id, text: label }),
    );
  });
  const [dateField, dateInput] = field("Dato", { type: "date", value: chosen.date, name: "dato" });
  dateInput.addEventListener("change", () => {
    if (!dateInput.value) return;
    chosen.date = dateInput.value;
    reload();
  });
  const step = (direction) => () => {
    const days = chosen.view === "week" ? 7 : chosen.view === "day" ? 1 : LIST_DAYS;
    chosen.date = addDays(chosen.date, direction * days);
    dateInput.value = chosen.date;
    reload();
  };
  const sectors = choices("OrganisationKind").map(([kind, label]) => {
    const id = uid("sektor");
    return h(
      "span",
      { class: "choice" },
      h("input", {
        type: "checkbox",
        id,
        name: "sektor",
        value: kind,
        checked: chosen.kinds.has(kind),
        onChange: (event) => {
          if (event.target.checked) chosen.kinds.add(kind);
          else chosen.kinds.delete(kind);
          reload();
        },
      }),
      h("label", { for: id, text: label }),
    );
  });
  const [organisationField, select] = field("Organisation", { tag: "select", name: "organisation" });
  organisationSelect = select;
  refreshOrganisations();
  select.addEventListener("change", () => ((chosen.organisation = select.value), reload()));
  const cancelledId = uid("aflyste");
  return h(
    "form",
    { class: "controls card", "aria-label": "Visning og filtre", onSubmit: (event) => event.preventDefault() },
    h("fieldset", { class: "segments" }, h("legend", { text: "Visning" }), viewChoices),
    h(
      "div",
      { class: "date-row" },
      dateField,
      h("button", { type: "button", class: "secondary", onClick: step(-1) }, "Forrige"),
      h("button", { type: "button", class: "secondary", onClick: () => ((chosen.date = today()), (dateInput.value = chosen.date), reload()) }, "I dag"),
      h("button", { type: "button", class: "secondary", onClick: step(1) }, "Næste"),
    ),
    h("fieldset", {}, h("legend", { text: "Sektor" }), sectors),
    organisationField,
    h(
      "div",
      { class: "choice" },
      h("input", { type: "checkbox", id: cancelledId, name: "aflyste", checked: chosen.cancelled, onChange: (event) => ((chosen.cancelled = event.target.checked), reload()) }),
      h("label", { for: cancelledId, text: "Vis aflyste aftaler" }),
    ),
  );
}

export async function render(main, ctx) {
  const results = h("div", { class: "results", id: "aftaler-resultat" });
  replace(main, pageTitle(title), controls(ctx, results), results);
  await load(ctx, results);
}
