// Talking to the gateway like any frontend: POST /graphql with a bearer token, the operation's text
// read from its own .graphql file (the same files the test suite validates against schema.graphql).

import { argumentText, errorText } from "./texts.js";

const TOKEN_KEY = "patientoverblik.token";
const texts = new Map();
let config = { graphql: "/graphql", demoIssuer: null };

/** Read /web/config.json: where /graphql is and, in the demo, the token issuer. */
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
    body: JSON.stringify({ ...request, expires_in: 3600 }),
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

/** An answer without data: the request as a whole was refused. */
export class Refused extends Error {
  /** A request refused as a whole: `code`, and for bad input the `argument` it names (nothing ran). */
  constructor(code, argument = null) {
    super(code === "BAD_USER_INPUT" && argument ? `${argumentText(argument)} er ikke udfyldt rigtigt.` : errorText(code));
    this.code = code;
    this.argument = argument;
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

/**
 * Run operation `name` of operations/<file>.graphql (by default the file named as the operation);
 * returns a {@link Result}.
 */
export async function run(name, variables = {}, file = name) {
  const headers = { "content-type": "application/json", accept: "application/json" };
  const bearer = token();
  if (bearer) headers.authorization = `Bearer ${bearer}`;
  const query = await operationText(file);
  const response = await fetch(config.graphql, {
    method: "POST",
    headers,
    body: JSON.stringify({ query, variables, operationName: name }),
  });
  if (response.status === 401) {
    setToken(null);
    throw new SignedOut("Din adgang er udløbet. Log ind igen.");
  }
  let body = null;
  try {
    body = await response.json();
  } catch {
    throw new Refused("INTERNAL_ERROR");
  }
  if (!body || body.data === null || body.data === undefined) {
    const first = body?.errors?.[0]?.extensions || {};
    throw new Refused(first.code || "INTERNAL_ERROR", first.argument || null);
  }
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
