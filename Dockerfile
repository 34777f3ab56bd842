# Softchat Realtime: production image (NestJS server + the React client it serves at "/").
#
#   docker build -t softchat-realtime .
#   docker run -p 3001:3001 -e DATABASE_URL=... -e REDIS_URL=... -e JWT_SECRET=... softchat-realtime
#
# Or the whole stack (Postgres, Redis, 2 app replicas, nginx): see docker-compose.yml.

ARG NODE_IMAGE=node:20-bookworm-slim

# ---------------------------------------------------------------------------------------------
# Build: compile the server (dist/, entry dist/main.js) and the client (client/dist/).
# ---------------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /app
ENV CI=true \
    NPM_CONFIG_AUDIT=false \
    NPM_CONFIG_FUND=false \
    NPM_CONFIG_UPDATE_NOTIFIER=false

# Dependencies first, so they stay cached while only sources change.
COPY package.json package-lock.json ./
RUN npm ci
COPY client/package.json client/package-lock.json ./client/
RUN npm --prefix client ci

COPY . .
# `npm run build` compiles the server and builds the client (client/dist/).
RUN npm run build \
 && { test -f dist/main.js || { echo "server build did not produce dist/main.js" >&2; exit 1; }; } \
 && { test -f client/dist/index.html || { echo "client build did not produce client/dist/index.html" >&2; exit 1; }; }

# ---------------------------------------------------------------------------------------------
# Runtime: production dependencies + compiled output only, as the unprivileged `node` user.
# ---------------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    PORT=3001 \
    HOST=0.0.0.0 \
    NODE_OPTIONS="--enable-source-maps" \
    NPM_CONFIG_AUDIT=false \
    NPM_CONFIG_FUND=false \
    NPM_CONFIG_UPDATE_NOTIFIER=false
WORKDIR /app

COPY package.json package-lock.json ./
RUN npm ci --omit=dev \
 && npm cache clean --force

COPY --from=build /app/dist ./dist
COPY --from=build /app/client/dist ./client/dist

# The only place the app may write (DATA_DIR, default ./.data); everything else stays root-owned.
RUN mkdir -p /app/.data && chown node:node /app/.data

USER node
EXPOSE 3001

# No curl in the slim image: ask node. 200 only when Postgres and Redis answer.
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "const r=require('http').get({host:'127.0.0.1',port:process.env.PORT||3001,path:'/api/health',timeout:4000},s=>{s.resume();process.exit(s.statusCode===200?0:1)});r.on('timeout',()=>r.destroy(new Error('timeout')));r.on('error',()=>process.exit(1))"]

# dist/main.js starts its worker processes itself with the flags the benchmarks need
# (--max-semi-space-size=64, RUNTIME_FLAGS); WEB_CONCURRENCY workers (default 1; `auto` = one per
# available core, or the container's CPU limit when it has one).
CMD ["node", "dist/main.js"]
