// The compiled tree mirrors the repository (dist/src, dist/migrations); the documented
// production entry point is dist/main.js, so it forwards to dist/src/main.js.
const { writeFileSync } = require('node:fs');
const { join } = require('node:path');
writeFileSync(join(__dirname, '..', 'dist', 'main.js'), "'use strict';\nrequire('./src/main');\n");
