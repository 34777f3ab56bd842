/**
 * Environment handed to the app under test on top of each benchmark's own settings, so the lead can
 * measure a lever before/after in one run without editing a script:
 *  - the lever switches below, when set in the benchmark's own environment
 *    (e.g. `WEB_CONCURRENCY=2 LEDGER_GROUP_COMMIT=false npm run bench:ledger`);
 *  - BENCH_APP_ENV="KEY=VALUE KEY2=VALUE2" (whitespace or comma separated);
 *  - `--env KEY=VALUE` on the command line (repeatable; wins over the rest).
 * No dependencies: imported by every benchmark, compiled or under ts-node.
 */
export const LEVER_ENV = [
  'WEB_CONCURRENCY',
  'LEDGER_GROUP_COMMIT',
  'GRAPHQL_SHARED_EXECUTION',
  'AUTH_CACHE_TTL_MS',
  'HTTP_ADAPTER',
  'NODE_OPTIONS',
] as const;

function parsePairs(text: string, into: Record<string, string>, where: string) {
  for (const pair of text.split(/[\s,]+/).filter(Boolean)) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new Error(`${where}: expected KEY=VALUE, got "${pair}"`);
    into[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
}

export function appEnvOverrides(argv: string[] = process.argv, env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of LEVER_ENV) if (env[key] !== undefined) out[key] = env[key]!;
  if (env.BENCH_APP_ENV) parsePairs(env.BENCH_APP_ENV, out, 'BENCH_APP_ENV');
  for (let i = 0; i < argv.length; i++) if (argv[i] === '--env' && argv[i + 1]) parsePairs(argv[i + 1], out, '--env');
  return out;
}

/** `--env K=V` pairs from argv, to forward to a child benchmark. */
export function envArgs(argv: string[] = process.argv): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) if (argv[i] === '--env' && argv[i + 1]) out.push('--env', argv[i + 1]);
  return out;
}
