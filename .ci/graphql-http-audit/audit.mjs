// The graphql-http server audits against a live server: node audit.mjs http://host:port/graphql
// Prints every audit and the counts by level; exits 1 if any MUST or SHOULD audit fails.
import { serverAudits } from 'graphql-http';

const url = process.argv[2];
const results = await Promise.all(serverAudits({ url }).map((audit) => audit.fn()));
const counts = {};
let failedRequired = 0;
for (const result of results) {
  const level = result.name.split(' ')[0];
  const passed = result.status === 'ok';
  counts[level] ??= { passed: 0, failed: 0 };
  counts[level][passed ? 'passed' : 'failed'] += 1;
  if (!passed && (level === 'MUST' || level === 'SHOULD')) failedRequired += 1;
  const detail = passed ? '' : ` -- ${result.reason}`;
  console.log(`${passed ? 'ok  ' : 'FAIL'} ${result.id} ${result.name}${detail}`);
}
for (const [level, { passed, failed }] of Object.entries(counts)) {
  console.log(`graphql-http audit ${level}: ${passed} passed, ${failed} failed`);
}
const passed = results.filter((result) => result.status === 'ok').length;
console.log(`graphql-http audit: ${passed} passed, ${results.length - passed} failed`);
process.exit(failedRequired ? 1 : 0);
