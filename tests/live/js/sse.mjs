// Run one operation with the graphql-sse npm client (distinct connections mode, as a
// browser SPA without WebSockets does) and print each result, then how it ended, as
// JSON lines:
//   node sse.mjs <url> <count> <query> <variables-json> [authorization]
// After <count> results the client unsubscribes ({"disposed": true}); a stream the
// server completes prints {"complete": true}; a failure prints {"error": ...}.
import { createClient } from "graphql-sse";

const [url, count, query, variables, authorization] = process.argv.slice(2);
const client = createClient({
  url,
  retryAttempts: 0,
  headers: authorization ? { Authorization: authorization } : {},
});

let received = 0;
const unsubscribe = client.subscribe(
  { query, variables: JSON.parse(variables) },
  {
    next: (result) => {
      console.log(JSON.stringify(result));
      received += 1;
      if (received >= Number(count)) {
        unsubscribe();
        console.log(JSON.stringify({ disposed: true }));
        client.dispose();
      }
    },
    error: (error) => {
      const status = error?.response?.status;
      console.log(JSON.stringify({ error: status ?? String(error?.message ?? error) }));
      client.dispose();
    },
    complete: () => {
      if (received < Number(count)) console.log(JSON.stringify({ complete: true }));
      client.dispose();
    },
  },
);
