// Building the page: DOM nodes from plain calls (never HTML strings, so data is always text),
// and Danish formatting of dates and times (Europe/Copenhagen).

/** What the gateway sends for a protected name, address or contact detail (ADR 0012). */
export const PROTECTED = "ADRESSEBESKYTTET";
const PROTECTED_WORDS = "Navne- og adressebeskyttet";
// One placeholder, or several in a row ("ADRESSEBESKYTTET ADRESSEBESKYTTET" for given and family name).
const PROTECTED_RUN = new RegExp(`${PROTECTED}(?:[\\s,]+${PROTECTED})*`, "g");

/** `text` with every protected placeholder told in the page's one word for it, for plain-text places. */
export function plainText(text) {
  return String(text).replace(PROTECTED_RUN, PROTECTED_WORDS);
}

/** `text` as text and placeholder marks: each run of the gateway's placeholder shown once, in words. */
function withPlaceholders(text) {
  return text
    .split(new RegExp(`(${PROTECTED_RUN.source})`))
    .filter(Boolean)
    .map((part) => (part.startsWith(PROTECTED) ? h("span", { class: "placeholder" }, PROTECTED_WORDS) : part));
}

/**
 * Make an element. `attrs`: `class`, `text`, `on<Event>` handlers, `dataset`, booleans (set when
 * true, left out when false or null) and plain attributes. `children`: nodes, strings (as text),
 * arrays of them; null, undefined and false are skipped. A protected placeholder in text is shown
 * as the page's words for it, everywhere.
 */
export function h(tag, attrs = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "class") element.className = value;
    else if (name === "text") append(element, [String(value)]);
    else if (name === "dataset") Object.assign(element.dataset, value);
    else if (name.startsWith("on") && typeof value === "function") {
      element.addEventListener(name.slice(2).toLowerCase(), value);
    } else if (value === true) element.setAttribute(name, "");
    else element.setAttribute(name, String(value));
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(element, child);
    else if (child instanceof Node) element.append(child);
    else if (String(child).includes(PROTECTED)) append(element, withPlaceholders(String(child)));
    else element.append(String(child));
  }
}

/** Replace an element's content. */
export function replace(element, ...children) {
  element.replaceChildren();
  append(element, children);
  return element;
}

let ids = 0;
/** A fresh id for `for`/`aria-labelledby` pairs. */
export function uid(prefix = "id") {
  ids += 1;
  return `${prefix}-${ids}`;
}

/** A description list from [term, value] pairs; pairs with an empty value are left out. */
export function facts(pairs) {
  const shown = pairs.filter(([, value]) => value !== null && value !== undefined && value !== "");
  return h("dl", { class: "facts" }, shown.map(([term, value]) => [h("dt", { text: term }), h("dd", {}, value)]));
}

/** A labelled input: returns [wrapper, input]. */
export function field(label, attrs = {}, hint = null) {
  const id = attrs.id || uid("felt");
  const hintId = hint ? `${id}-hint` : null;
  const input = h(attrs.tag || "input", { ...attrs, tag: null, id, "aria-describedby": hintId });
  const wrapper = h(
    "div",
    { class: "field" },
    h("label", { for: id, text: label }),
    hint ? h("p", { class: "hint", id: hintId, text: hint }) : null,
    input,
  );
  return [wrapper, input];
}

const ZONE = "Europe/Copenhagen";
const dateFormat = new Intl.DateTimeFormat("da-DK", { day: "numeric", month: "long", year: "numeric", timeZone: "UTC" });
const weekdayFormat = new Intl.DateTimeFormat("da-DK", {
  weekday: "long",
  day: "numeric",
  month: "long",
  timeZone: "UTC",
});
const timeFormat = new Intl.DateTimeFormat("da-DK", { hour: "2-digit", minute: "2-digit", timeZone: ZONE });
const localDate = new Intl.DateTimeFormat("en-CA", { timeZone: ZONE });

function utcDate(iso) {
  const [year, month, day] = iso.split("-").map(Number);
  return new Date(Date.UTC(year, month - 1, day));
}

/** "30. november 2026" for a GraphQL Date. */
export function formatDate(iso) {
  return iso ? dateFormat.format(utcDate(iso)) : "";
}

/** "mandag 30. november" for a GraphQL Date. */
export function formatWeekday(iso) {
  return weekdayFormat.format(utcDate(iso));
}

/** "07.30" for a GraphQL DateTime, in Danish time. */
export function formatTime(isoDateTime) {
  return timeFormat.format(new Date(isoDateTime));
}

/** "30. november 2026 kl. 07.30" for a GraphQL DateTime. */
export function formatDateTime(isoDateTime) {
  return `${formatDate(danishDate(isoDateTime))} kl. ${formatTime(isoDateTime)}`;
}

/** The Danish calendar date (YYYY-MM-DD) of an instant. */
export function danishDate(isoDateTime) {
  return localDate.format(new Date(isoDateTime));
}

/** Today in Denmark, YYYY-MM-DD. */
export function today() {
  return localDate.format(new Date());
}

/** `iso` moved by `days` (may be negative). */
export function addDays(iso, days) {
  const date = utcDate(iso);
  date.setUTCDate(date.getUTCDate() + days);
  return date.toISOString().slice(0, 10);
}

/** Monday of the ISO week `iso` lies in. */
export function mondayOf(iso) {
  const weekday = (utcDate(iso).getUTCDay() + 6) % 7;
  return addDays(iso, -weekday);
}

/** "140372-3705": a CPR number as people write it. */
export function formatCpr(cpr) {
  return cpr && cpr.length === 10 ? `${cpr.slice(0, 6)}-${cpr.slice(6)}` : cpr || "";
}

/** "1. januar 2019 – 31. december 2020", open ends told in words. */
export function formatPeriod(period, open = "og frem") {
  if (!period) return "";
  const start = period.start || period.from;
  const end = period.end || period.to;
  if (start && end) return `${formatDate(start)} – ${formatDate(end)}`;
  if (start) return `Fra ${formatDate(start)} ${open}`;
  if (end) return `Til og med ${formatDate(end)}`;
  return "Uden tidsgrænse";
}

/** A view's heading: focused when the view opens, so a screen reader starts there. */
export function pageTitle(text) {
  return h("h1", { tabindex: "-1", text });
}

/**
 * The CPR number typed into a field (spaces and a hyphen allowed), or null when it is not one: 10
 * digits whose first six are a real date (DDMMYY) in the century the seventh digit gives, the rule
 * of the gateway's CPR scalar (sources/identifiers.py); never modulus 11.
 */
export function readCpr(text) {
  const digits = (text || "").replace(/[\s-]/g, "");
  return /^\d{10}$/.test(digits) && cprBirthDate(digits) ? digits : null;
}

/** Why `text` is not a CPR number, in Danish; null when it is one. */
export function cprProblem(text) {
  const digits = (text || "").replace(/[\s-]/g, "");
  if (!/^\d{10}$/.test(digits)) return "Et CPR-nummer er 10 cifre, fx 140372-3705.";
  if (!cprBirthDate(digits)) return "De første seks cifre i et CPR-nummer er en fødselsdato (DDMMÅÅ), og det er de ikke her.";
  return null;
}

function cprBirthDate(digits) {
  const [day, month, yy, seventh] = [digits.slice(0, 2), digits.slice(2, 4), digits.slice(4, 6), digits[6]].map(Number);
  let century = 1900;
  if (seventh === 4 || seventh === 9) century = yy <= 36 ? 2000 : 1900;
  else if (seventh >= 5) century = yy <= 57 ? 2000 : 1800;
  const date = new Date(Date.UTC(century + yy, month - 1, day));
  return date.getUTCFullYear() === century + yy && date.getUTCMonth() === month - 1 && date.getUTCDate() === day ? date : null;
}
