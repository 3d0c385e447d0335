// Starts GraphiQL against this server: queries over HTTP, subscriptions over graphql-ws.
// A file, not an inline script, so the page's CSP can forbid inline scripts altogether.
(function () {
  "use strict";
  var root = document.getElementById("graphiql");
  var endpoint = new URL(root.getAttribute("data-endpoint"), window.location.href);
  var socket = new URL(endpoint.toString());
  socket.protocol = endpoint.protocol === "https:" ? "wss:" : "ws:";
  var fetcher = GraphiQL.createFetcher({
    url: endpoint.toString(),
    wsClient: graphqlWs.createClient({ url: socket.toString(), lazy: true }),
  });
  ReactDOM.createRoot(root).render(
    React.createElement(GraphiQL, { fetcher: fetcher, defaultEditorToolsVisibility: true }),
  );
})();
