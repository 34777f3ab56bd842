#!/usr/bin/env node
'use strict';
/**
 * `node bench/launch.js <name> [args]`: builds (bench/lib/build.js) and runs bench/<name>/run.ts as
 * plain compiled JavaScript (no ts-node: under ts-node Node also loads its REPL and with it `domain`,
 * which slows every EventEmitter.emit of the load generator). The build directory and the repository
 * are handed on as BENCH_BUILD and BENCH_REPO, so the benchmark starts the app from the same build.
 */
const { spawn } = require('node:child_process');
const { join } = require('node:path');
const { ensureBuild, REPO } = require('./lib/build');

const [name, ...args] = process.argv.slice(2);
if (!name) {
  process.stderr.write('usage: node bench/launch.js <benchmark> [args]\n');
  process.exit(2);
}
const build = ensureBuild();
const child = spawn(process.execPath, [join(build, 'bench', name, 'run.js'), ...args], {
  cwd: REPO,
  env: { ...process.env, BENCH_BUILD: build, BENCH_REPO: REPO },
  stdio: 'inherit',
});
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
child.once('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
