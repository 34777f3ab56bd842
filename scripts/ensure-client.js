// `npm start` on a fresh clone: build the React client once if client/dist is missing, so "/"
// shows the app on a newcomer's first command. Installs the client's dependencies first when
// they are absent. SKIP_CLIENT_BUILD=true (or SERVE_CLIENT=false) skips it.
'use strict';
const { existsSync } = require('node:fs');
const { join } = require('node:path');
const { execSync } = require('node:child_process');

const root = join(__dirname, '..');
const client = join(root, 'client');
const off = (v) => /^(1|true|yes)$/i.test(v ?? '');
if (off(process.env.SKIP_CLIENT_BUILD) || /^(0|false|no)$/i.test(process.env.SERVE_CLIENT ?? '')) process.exit(0);
if (existsSync(join(client, 'dist', 'index.html'))) process.exit(0);

const run = (cmd) => execSync(cmd, { cwd: root, stdio: 'inherit', env: { ...process.env, NODE_ENV: 'production' } });
try {
  if (!existsSync(join(client, 'node_modules', '.bin', 'vite'))) {
    console.log('[client] installing the client dependencies (first start)…');
    run('npm --prefix client ci --no-audit --no-fund');
  }
  console.log('[client] building the client (first start)…');
  run('npm --prefix client run build');
} catch (e) {
  // The API still starts; "/" stays empty until the client builds.
  console.error(`[client] could not build the client: ${e.message}`);
}
