# syntax=docker/dockerfile:1
# The Node version the project pins (package.json devDependencies "node"); change both together.
ARG NODE_IMAGE=node:24.21.0-bookworm-slim

# Build: compile TypeScript with the dev dependencies.
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
# Install scripts are skipped: the image already has the pinned Node, so the `node` dev dependency is not needed.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY commands ./commands
# Source maps are not shipped: the bot runs without --enable-source-maps.
RUN ./node_modules/.bin/tsc -p tsconfig.build.json && find dist -name '*.map' -delete

# Production dependencies only.
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
COPY patches ./patches
# Install scripts are skipped (the pinned `node` dev dependency is not installed here); the driver patches
# (patches/README.md) are applied explicitly.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && ./node_modules/.bin/patch-package

# Runtime: compiled JavaScript and production dependencies, not root. The package managers are removed:
# nothing at run time installs anything.
FROM ${NODE_IMAGE}
RUN rm -rf /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/corepack \
      /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack \
      /opt/yarn-* /usr/local/bin/yarn /usr/local/bin/yarnpkg
# The embedded database (PGlite) lives in DATA_DIR when DATABASE_URL is unset: mount a named volume there
# (docker run -v kling-data:/app/data …). /healthz and /metrics answer on METRICS_PORT, on every interface
# of the container (publish the port only to what scrapes it).
ENV NODE_ENV=production \
    DATA_DIR=/app/data \
    METRICS_PORT=9464 \
    METRICS_HOST=0.0.0.0
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY drizzle ./drizzle
RUN mkdir -p /app/data && chown node:node /app/data
USER node
EXPOSE 9464
# There is no curl in the slim image: Node's fetch asks /healthz (503 while starting, stopping or unwell).
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "const p=process.env.METRICS_PORT;if(!p)process.exit(0);fetch(`http://127.0.0.1:${p}/healthz`,{signal:AbortSignal.timeout(4000)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# SIGTERM lets the bot finish the jobs in hand and give their leases back.
STOPSIGNAL SIGTERM
# start.js checks the Node version, sets V8 to keep memory low (MEMORY_MODE=small, the default; see the README),
# then loads the bot.
CMD ["node", "dist/src/start.js"]
