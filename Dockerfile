# hookrelay: one image for both processes, running the compiled code (npm run build). The default command runs
# the API; the worker service overrides it with `node dist/src/worker.js` (see docker-compose.yml), which loads
# the workflow bundle built ahead (WORKFLOW_BUNDLE_PATH) instead of bundling at start.
#
#   docker build -t hookrelay .
#   docker run --rm -p 3000:3000 -e MONGODB_URL=... -e TEMPORAL_ADDRESS=... -e ADMIN_KEY=hrk_... hookrelay
#   docker run --rm -e MONGODB_URL=... -e TEMPORAL_ADDRESS=... hookrelay node dist/src/worker.js

# ---- build: all dependencies, compile, bundle the workflows -----------------------------------------------
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# `npm install`, not `npm ci`: the lock file lacks the optional platform packages of other platforms
# (@swc/core-darwin-*, @rollup/rollup-*, ...) and `npm ci` rejects it as out of sync (scripts/ensure.js does
# the same). npm still resolves from package-lock.json.
RUN npm install --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/build.js scripts/stack.js ./scripts/
COPY src ./src
# the CLI's API client is the TypeScript SDK package's source
COPY sdks/typescript/src ./sdks/typescript/src
COPY workflows ./workflows
COPY activities ./activities
COPY portal ./portal
RUN node scripts/build.js

# ---- production dependencies only ----------------------------------------------------------------------------
FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm install --omit=dev --no-audit --no-fund \
 && npm cache clean --force

# ---- runtime -----------------------------------------------------------------------------------------------
FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    HOOKRELAY_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    WORKFLOW_BUNDLE_PATH=/app/dist/workflow-bundle.js
WORKDIR /app
# Owned by root and read-only for the process user: the app writes nothing under /app.
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY bin ./bin
# The unprivileged user of the node base image (uid 1000).
USER node
# 3000: the API; 9464: the worker's Prometheus /metrics (WORKER_METRICS_PORT).
EXPOSE 3000 9464
# No HEALTHCHECK here: the same image runs the worker, whose only HTTP port is /metrics. docker-compose.yml checks
# the API's GET /readyz. WORKER_FAST_PATH is left unset (off): production workers run the SDK's defaults.
CMD ["node", "dist/src/main.js"]
