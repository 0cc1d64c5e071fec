// graphql-http's server audits (GraphQL over HTTP) against one URL: `node audit.mjs <url> [bearer token]`.
// Prints one JSON object: {"counts": {"ok": n, "notice": n, "warn": n, "error": n}, "results": [...]},
// each result {id, name, status, reason}. Exits 0 whatever the results say: the caller judges them.
import { auditServer } from "graphql-http";

const [url, token] = process.argv.slice(2);
if (!url) {
  console.error("usage: node audit.mjs <url> [bearer token]");
  process.exit(2);
}
const fetchFn = token
  ? (input, init = {}) => fetch(input, { ...init, headers: { ...init.headers, authorization: `Bearer ${token}` } })
  : fetch;
const results = await auditServer({ url, fetchFn });
const counts = { ok: 0, notice: 0, warn: 0, error: 0 };
const listed = [];
for (const result of results) {
  counts[result.status] += 1;
  listed.push({ id: result.id, name: result.name, status: result.status, reason: result.reason ?? null });
}
console.log(JSON.stringify({ counts, results: listed }));
