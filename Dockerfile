# hookrelay: one image for both processes. The default command runs the API; the worker service overrides it
# with `node --import tsx src/worker.ts` (see docker-compose.yml).
#
#   docker build -t hookrelay .
#   docker run --rm -p 3000:3000 -e MONGODB_URL=... -e TEMPORAL_ADDRESS=... -e ADMIN_KEY=hrk_... hookrelay
#   docker run --rm -e MONGODB_URL=... -e TEMPORAL_ADDRESS=... hookrelay node --import tsx src/worker.ts

# ---- dependencies ------------------------------------------------------------------------------------------
FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# Production dependencies only: the sources run as TypeScript through tsx, which is in "dependencies" (as are
# @temporalio/worker's workflow bundler and its native @swc/core binary), so nothing from devDependencies
# (typescript, vitest, ...) is needed at run time.
# `npm install`, not `npm ci`: the lock file lacks the optional platform packages of other platforms
# (@swc/core-darwin-*, @rollup/rollup-*, ...) and `npm ci` rejects it as out of sync (scripts/ensure.js does
# the same). npm still resolves from package-lock.json.
RUN npm install --omit=dev --no-audit --no-fund \
 && npm cache clean --force

# ---- runtime -----------------------------------------------------------------------------------------------
FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    HOOKRELAY_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000
WORKDIR /app
# Owned by root and read-only for the process user: the app writes nothing under /app (tsx caches in /tmp).
COPY --from=deps /app/node_modules ./node_modules
# The build context is an allow-list (.dockerignore): package.json, package-lock.json, tsconfig.json, src/,
# workflows/, activities/ and bin/ when present.
COPY . .
# The unprivileged user of the node base image (uid 1000).
USER node
EXPOSE 3000
# No HEALTHCHECK here: the same image runs the worker, which has no HTTP port. docker-compose.yml checks the
# API's GET /readyz.
CMD ["node", "--import", "tsx", "src/main.ts"]
