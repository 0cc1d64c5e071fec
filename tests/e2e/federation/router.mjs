// Hive Gateway (the router) in front of Federation v2 subgraphs, on a free port of 127.0.0.1.
//
//   node router.mjs '<config JSON>'
//
// config: {"subgraphs": [{"name": "overview", "urls": ["http://127.0.0.1:1234/graphql", …], "sdl": "…"?}],
//          "sdlHeaders": {"authorization": "Bearer …"}?}
// A subgraph may run as several instances (urls): the router takes turns between them, request by request.
// A subgraph without "sdl" is asked for it (`{ _service { sdl } }` at its first url, with sdlHeaders). The
// subgraphs are composed with @theguild/federation-composition; the router forwards each client's
// Authorization header to every subgraph request it makes. Prints one line, {"url": "http://127.0.0.1:<port>/graphql"},
// once it listens (or {"errors": [...]} and exits 1 when composition fails); stops on SIGTERM.
import { createServer } from "node:http";
import { createGatewayRuntime } from "@graphql-hive/gateway-runtime";
import { composeServices } from "@theguild/federation-composition";
import { parse } from "graphql";

const config = JSON.parse(process.argv[2] ?? "{}");
const subgraphs = config.subgraphs ?? [];

async function sdlOf(subgraph) {
  if (subgraph.sdl) return subgraph.sdl;
  const response = await fetch(subgraph.urls[0], {
    method: "POST",
    headers: { "content-type": "application/json", ...(config.sdlHeaders ?? {}) },
    body: JSON.stringify({ query: "{ _service { sdl } }" }),
  });
  const body = await response.json();
  if (!body.data?._service?.sdl) throw new Error(`${subgraph.name}: no SDL (${JSON.stringify(body.errors)})`);
  return body.data._service.sdl;
}

const services = [];
for (const subgraph of subgraphs) {
  services.push({ name: subgraph.name, url: subgraph.urls[0], typeDefs: parse(await sdlOf(subgraph)) });
}
const composed = composeServices(services);
if (composed.errors?.length) {
  console.log(JSON.stringify({ errors: composed.errors.map((e) => e.message) }));
  process.exit(1);
}

// The composed graph names each subgraph by its first url; a request to it goes to the instance whose turn it is.
const turns = new Map(subgraphs.map((s) => [s.urls[0], { urls: s.urls, next: 0 }]));
const takingTurns = {
  onFetch({ url, setURL }) {
    const instances = turns.get(url);
    if (!instances || instances.urls.length < 2) return;
    setURL(instances.urls[instances.next]);
    instances.next = (instances.next + 1) % instances.urls.length;
  },
};

const gateway = createGatewayRuntime({
  supergraph: composed.supergraphSdl,
  propagateHeaders: {
    fromClientToSubgraphs: ({ request }) => {
      const authorization = request.headers.get("authorization");
      return authorization ? { authorization } : {};
    },
  },
  plugins: () => [takingTurns],
  maskedErrors: false, // a test router: a failure shows what failed
  logging: "error",
});
const server = createServer(gateway);
server.listen(0, "127.0.0.1", () => {
  const { port } = server.address();
  console.log(JSON.stringify({ url: `http://127.0.0.1:${port}${gateway.graphqlEndpoint}` }));
});
process.on("SIGTERM", () => {
  server.close();
  gateway.dispose().finally(() => process.exit(0));
});
