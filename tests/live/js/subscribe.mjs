// Subscribe with the graphql-ws npm client (as a browser SPA does) and print each
// result, then how the socket closed, as JSON lines:
//   node subscribe.mjs <ws-url> <count> <query> <variables-json> [authorization]
import { createClient } from "graphql-ws";
import WebSocket from "ws";

const [url, count, query, variables, authorization] = process.argv.slice(2);
const client = createClient({
  url,
  webSocketImpl: WebSocket,
  retryAttempts: 0,
  lazy: true,
  connectionParams: authorization ? { Authorization: authorization } : undefined,
  on: { closed: (event) => console.log(JSON.stringify({ closed: event.code })) },
});

let received = 0;
client.subscribe(
  { query, variables: JSON.parse(variables) },
  {
    next: (result) => {
      console.log(JSON.stringify(result));
      received += 1;
      if (received >= Number(count)) client.dispose();
    },
    error: (error) => {
      // The server's GraphQL errors come as an array: print their codes.
      const codes = Array.isArray(error) ? error.map((each) => each.extensions?.code) : null;
      console.log(JSON.stringify({ error: codes ?? error?.code ?? String(error?.message ?? error) }));
      client.dispose();
    },
    complete: () => client.dispose(),
  },
);
