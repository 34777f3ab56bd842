'use strict';
/**
 * The build every benchmark runs: the app (src/, migrations/, scripts/, ormconfig) and the benchmarks
 * themselves (bench/) transpiled to plain CommonJS under bench/.build/<fingerprint>/, laid out like
 * `nest build`'s dist/ (src/, migrations/, scripts/ and a main.js that forwards to src/main.js, as
 * scripts/postbuild.js writes it), so the app starts as a user starts it: `node <build>/main.js`, no
 * ts-node, no extra node flags. Node resolves packages by walking up to the repository's node_modules.
 *
 * Why not `nest build`: it type-checks (a minute on 2 cores) and `npm run build` also builds the React
 * client; transpiling per file with the TypeScript API (the same emit, `isolatedModules` is on) takes a
 * few seconds. The fingerprint (path, size and mtime of every source file) makes one build serve every
 * benchmark of a suite run, and any edit produce a fresh one. Plain JavaScript so that the launcher
 * (bench/launch.js) needs no ts-node.
 */
const { createHash } = require('node:crypto');
const { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, existsSync, copyFileSync, symlinkSync } = require('node:fs');
const { join, resolve } = require('node:path');

const REPO = process.env.BENCH_REPO || resolve(__dirname, '..', '..');
const BUILDS = join(REPO, 'bench', '.build');
const PARTS = ['src', 'migrations', 'scripts', 'bench'];
const SKIP_DIRS = new Set(['node_modules', '.build', 'results']);

function walk(dir, out) {
  for (const name of readdirSync(dir)) {
    if (SKIP_DIRS.has(name)) continue;
    const p = join(dir, name);
    const st = statSync(p);
    if (st.isDirectory()) walk(p, out);
    else if ((name.endsWith('.ts') && !name.endsWith('.d.ts') && !name.endsWith('.spec.ts')) || name.endsWith('.js') || name.endsWith('.json'))
      out.push({ p, st });
  }
  return out;
}

function sources() {
  const files = [];
  for (const part of PARTS) if (existsSync(join(REPO, part))) walk(join(REPO, part), files);
  if (existsSync(join(REPO, 'ormconfig.ts'))) files.push({ p: join(REPO, 'ormconfig.ts'), st: statSync(join(REPO, 'ormconfig.ts')) });
  return files;
}

function fingerprint(files) {
  const h = createHash('sha256');
  for (const { p, st } of files) h.update(`${p}\0${st.size}\0${st.mtimeMs}\n`);
  return h.digest('hex').slice(0, 16);
}

/** Returns the build directory for the current sources, building it if needed. */
function ensureBuild(log = (m) => process.stderr.write(m + '\n')) {
  if (process.env.BENCH_BUILD) return process.env.BENCH_BUILD;
  const files = sources();
  const dir = join(BUILDS, fingerprint(files));
  if (existsSync(join(dir, 'main.js'))) return dir;
  const t0 = Date.now();
  const ts = require('typescript');
  const tmp = `${dir}.tmp${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  for (const { p } of files) {
    const rel = p.slice(REPO.length + 1);
    const target = join(tmp, rel.replace(/\.ts$/, '.js'));
    mkdirSync(join(target, '..'), { recursive: true });
    if (!p.endsWith('.ts')) {
      copyFileSync(p, target);
      continue;
    }
    const out = ts.transpileModule(readFileSync(p, 'utf8'), {
      fileName: p,
      compilerOptions: {
        module: ts.ModuleKind.CommonJS,
        target: ts.ScriptTarget.ES2022,
        esModuleInterop: true,
        experimentalDecorators: true,
        emitDecoratorMetadata: true,
        resolveJsonModule: true,
      },
    });
    writeFileSync(target, out.outputText);
  }
  writeFileSync(join(tmp, 'main.js'), "'use strict';\nrequire('./src/main');\n");
  // The app serves the React client from ../client/dist next to src/ (as from the repository or dist/).
  if (existsSync(join(REPO, 'client'))) symlinkSync(join(REPO, 'client'), join(tmp, 'client'), 'dir');
  try {
    renameSync(tmp, dir);
  } catch (e) {
    // Another benchmark built the same fingerprint at the same moment: use theirs.
    rmSync(tmp, { recursive: true, force: true });
    if (!existsSync(join(dir, 'main.js'))) throw e;
  }
  // Older builds are dead weight (one that is under ten minutes old may still be running a benchmark).
  for (const name of readdirSync(BUILDS)) {
    const p = join(BUILDS, name);
    if (p !== dir && Date.now() - statSync(p).mtimeMs > 10 * 60_000) rmSync(p, { recursive: true, force: true });
  }
  log(`bench: built the app and benchmarks into ${dir} in ${((Date.now() - t0) / 1000).toFixed(1)} s (${files.length} files)`);
  return dir;
}

module.exports = { ensureBuild, REPO };
