// PostGraphile 5 as the benchmark runs it (bench/run.py): the Amber preset over the
// `public` schema plus the two listing functions of functions.sql, production-like
// (no GraphiQL, no watch, no explain). DATABASE_URL and PORT come from the environment;
// the harness copies this file next to its npm install so that the imports resolve.
import { PostGraphileAmberPreset } from "postgraphile/presets/amber";
import { makePgService } from "postgraphile/adaptors/pg";

/** @type {GraphileConfig.Preset} */
const preset = {
  extends: [PostGraphileAmberPreset],
  // Order and filter by any column (what V4's ignoreIndexes did), as the queries need.
  disablePlugins: ["PgIndexBehaviorsPlugin"],
  pgServices: [
    makePgService({
      connectionString: process.env.DATABASE_URL,
      schemas: ["public", "bench_postgraphile"],
    }),
  ],
  grafserv: { host: "127.0.0.1", port: Number(process.env.PORT), graphiql: false, watch: false },
  grafast: { explain: false },
};

export default preset;
