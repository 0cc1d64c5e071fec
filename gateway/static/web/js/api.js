// Talking to the gateway like any frontend: POST /graphql with a bearer token and a trusted
// document's id. The operations folder is the page's trusted-documents manifest (ADR 0015): the
// gateway registers the page's client with it and says each file's id in /web/config.json, the
// SHA-256 of the file's text, so a changed file never answers to an old id. A token of another
// client, which has no such manifest, gets the file's text instead (as an APQ client would).

import { errorText } from "./texts.js";

const TOKEN_KEY = "patientoverblik.token";
const texts = new Map();
/** Files whose id the gateway did not know for this token: sent as text from then on. */
const unknownIds = new Set();
let config = { graphql: "/graphql", demoIssuer: null, clientId: null, documents: {} };

/** Read /web/config.json: where /graphql is, the operations' ids, and, in the demo, the token issuer. */
export async function loadConfig() {
  const response = await fetch("/web/config.json", { headers: { accept: "application/json" } });
  if (response.ok) config = await response.json();
  return config;
}

export function demoIssuer() {
  return config.demoIssuer;
}

/**
 * The bearer token. Outside the demo a host application puts it in sessionStorage under
 * "patientoverblik.token" before loading the page, or an OIDC redirect brings it back in the
 * fragment (#access_token=…); see docs/web.md.
 */
export function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function setToken(value) {
  unknownIds.clear();
  if (value) sessionStorage.setItem(TOKEN_KEY, value);
  else sessionStorage.removeItem(TOKEN_KEY);
}

/** Take a token from an OIDC-style redirect fragment (#access_token=…) and clear it from the address bar. */
export function tokenFromFragment() {
  const fragment = new URLSearchParams(location.hash.replace(/^#/, ""));
  const value = fragment.get("access_token");
  if (!value) return false;
  setToken(value);
  history.replaceState(null, "", `${location.pathname}#/oversigt`);
  return true;
}

/** Ask the demo issuer for a token (POST /token) and keep it. Only in the demo. */
export async function signInDemo(request) {
  const response = await fetch(`${config.demoIssuer}/token`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ ...request, client_id: config.clientId || undefined, expires_in: 3600 }),
  });
  if (!response.ok) throw new Error("Demo-udstederen ville ikke udstede en adgangsnøgle.");
  setToken((await response.json()).access_token);
}

/** The demo issuer's personas, professionals and relations (GET /personas). */
export async function demoDirectory() {
  const response = await fetch(`${config.demoIssuer}/personas`);
  if (!response.ok) throw new Error("Demo-udstederen svarer ikke.");
  return response.json();
}

/** The token was refused (HTTP 401): the page signs out. */
export class SignedOut extends Error {}

/** An answer without data: the request as a whole was refused; `error` is the gateway's first error. */
export class Refused extends Error {
  constructor(code, error = null) {
    super(errorText(code));
    this.code = code;
    this.error = error;
  }

  static from(error) {
    return new Refused(error?.extensions?.code || "INTERNAL_ERROR", error || null);
  }
}

async function operationText(name) {
  if (!texts.has(name)) {
    const response = await fetch(`/web/operations/${name}.graphql`);
    if (!response.ok) throw new Error(`Operationen ${name} mangler.`);
    texts.set(name, await response.text());
  }
  return texts.get(name);
}

/** The request body for operation `name` of `file`: its trusted document's id, or its text. */
async function requestBody(name, variables, file) {
  const documentId = config.documents?.[file];
  if (documentId && !unknownIds.has(file)) return { documentId, variables, operationName: name };
  return { query: await operationText(file), variables, operationName: name };
}

async function post(body) {
  const headers = { "content-type": "application/json", accept: "application/json" };
  const bearer = token();
  if (bearer) headers.authorization = `Bearer ${bearer}`;
  const response = await fetch(config.graphql, { method: "POST", headers, body: JSON.stringify(body) });
  if (response.status === 401) {
    setToken(null);
    throw new SignedOut("Din adgang er udløbet. Log ind igen.");
  }
  try {
    return await response.json();
  } catch {
    throw new Refused("INTERNAL_ERROR");
  }
}

/**
 * Run operation `name` of operations/<file>.graphql (by default the file named as the operation);
 * returns a {@link Result}. Sent by id; when the gateway does not know the id for this token
 * (PERSISTED_QUERY_NOT_FOUND: another client's token), sent again as text.
 */
export async function run(name, variables = {}, file = name) {
  let sent = await requestBody(name, variables, file);
  let body = await post(sent);
  if (sent.documentId && body?.errors?.[0]?.extensions?.code === "PERSISTED_QUERY_NOT_FOUND") {
    unknownIds.add(file);
    sent = await requestBody(name, variables, file);
    body = await post(sent);
  }
  if (!body || body.data === null || body.data === undefined) throw Refused.from(body?.errors?.[0]);
  return new Result(body.data, body.errors || []);
}

/** A GraphQL answer: partial data and coded errors at paths. */
export class Result {
  constructor(data, errors) {
    this.data = data;
    this.errors = errors;
  }

  /** Errors at `path` or below it (path as an array of keys, e.g. ["patient", "appointments"]). */
  errorsAt(path) {
    return this.errors.filter((error) => {
      const at = error.path || [];
      return path.every((key, index) => at[index] === key);
    });
  }

  /** The first error with `code`, anywhere. */
  find(code) {
    return this.errors.find((error) => error.extensions?.code === code);
  }
}
