// PostGraphile 5 in WORKERS processes sharing one port, as `blog-graphql serve --workers N`
// runs N: with WORKERS=1 this process serves alone (what `postgraphile --config` does);
// with more, it is node:cluster's primary, forking the workers and handing them the
// connections, and it exits when one of them dies so that the harness notices.
// The harness copies this file next to its npm install, beside graphile.config.mjs.
import cluster from "node:cluster";
import { createServer } from "node:http";
import { postgraphile } from "postgraphile";
import { grafserv } from "postgraphile/grafserv/node";
import preset from "./graphile.config.mjs";

const workers = Number(process.env.WORKERS ?? "1");

function serve() {
  const pgl = postgraphile(preset);
  const serv = pgl.createServ(grafserv);
  const server = createServer();
  serv.addTo(server).catch((error) => {
    console.error("Initializing server failed", error);
    process.exit(1);
  });
  server.on("error", (error) => {
    console.error("Server error", error);
    process.exit(2);
  });
  server.listen({ host: preset.grafserv.host, port: preset.grafserv.port }, () => {
    console.log(`pid ${process.pid} serving on port ${preset.grafserv.port}`);
  });
}

if (workers > 1 && cluster.isPrimary) {
  for (let index = 0; index < workers; index++) {
    cluster.fork();
  }
  cluster.on("exit", (worker, code, signal) => {
    console.error(`worker ${worker.process.pid} exited (${signal ?? code})`);
    process.exit(1);
  });
  // The harness stops the whole process group; this is for a stop of the primary alone.
  process.on("SIGTERM", () => {
    for (const worker of Object.values(cluster.workers ?? {})) worker?.kill();
    process.exit(0);
  });
} else {
  serve();
}
