import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..', '..');

/** Every variable `.env.example` documents, set or commented out (`# NAME=`). */
function documentedVariables(): string[] {
  const names = new Set<string>();
  for (const line of readFileSync(join(ROOT, '.env.example'), 'utf8').split('\n')) {
    const m = /^#?\s?([A-Z][A-Z0-9_]*)=/.exec(line);
    if (m) names.add(m[1]);
  }
  return [...names];
}

/** The `environment:` map of the `app` service (a line reader: the file is ours and regular). */
function appEnvironment(): Record<string, string> {
  const lines = readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8').split('\n');
  const env: Record<string, string> = {};
  let inApp = false;
  let inEnv = false;
  for (const line of lines) {
    if (/^ {2}\S/.test(line)) inApp = line.trim() === 'app:';
    else if (inApp && /^ {4}\S/.test(line)) inEnv = line.trim() === 'environment:';
    else if (inApp && inEnv) {
      const m = /^ {6}([A-Z][A-Z0-9_]*):\s*(.*?)\s*$/.exec(line);
      if (m) env[m[1]] = m[2].replace(/^"(.*)"$/, '$1');
    }
  }
  return env;
}

describe('docker-compose.yml', () => {
  const env = appEnvironment();

  it('passes every variable documented in .env.example through to the app replicas', () => {
    const documented = documentedVariables();
    expect(documented.length).toBeGreaterThan(20);
    expect(documented.filter((name) => !(name in env))).toEqual([]);
  });

  it('makes the production-only requirements mandatory at `docker compose up`', () => {
    for (const name of ['JWT_SECRET', 'BTC_XPUB', 'ETH_XPUB']) expect(env[name]).toBe(`\${${name}:?set ${name}}`);
    expect(env.NODE_ENV).toBe('production');
  });
});
