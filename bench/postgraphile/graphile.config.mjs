// PostGraphile 5 as the benchmark runs it (bench/run.py): the Amber preset over the
// `public` schema plus the two listing functions of functions.sql, production-like
// (no GraphiQL, no watch, no explain). DATABASE_URL and PORT come from the environment;
// the harness copies this file next to its npm install so that the imports resolve.
// JWT_SECRET, when set, is blog_graphql's SECRET_KEY: PostGraphile then verifies the
// same bearer token blog_graphql issued (HS256, its issuer, audience and expiry) and hands
// its claims to PostgreSQL as `jwt.claims.*` settings of the request's transaction, which
// is PostGraphile's own JWT path (PgLazyJWTPreset). The token has no `role` claim, so no
// role switch, and the schema has no row-level security: the answers stay the same.
import { PostGraphileAmberPreset } from "postgraphile/presets/amber";
import { PgLazyJWTPreset } from "postgraphile/presets/lazy-jwt";
import { makePgService } from "postgraphile/adaptors/pg";

/** @type {GraphileConfig.Preset} */
const preset = {
  extends: [PostGraphileAmberPreset, PgLazyJWTPreset],
  // Order and filter by any column (what V4's ignoreIndexes did), as the queries need.
  disablePlugins: ["PgIndexBehaviorsPlugin"],
  pgServices: [
    makePgService({
      connectionString: process.env.DATABASE_URL,
      schemas: ["public", "bench_postgraphile"],
    }),
  ],
  grafserv: {
    host: "127.0.0.1",
    port: Number(process.env.PORT),
    graphiql: false,
    watch: false,
    pgJwtSecret: process.env.JWT_SECRET || undefined,
    // blog_graphql.accounts.tokens' ISSUER and AUDIENCE.
    pgJwtVerifyOptions: { issuer: "blog_graphql", audience: "blog_graphql:api" },
  },
  grafast: { explain: false },
};

export default preset;
