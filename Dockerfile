# syntax=docker/dockerfile:1
# Build: compile TypeScript with the dev dependencies.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# Install scripts are skipped: the image already has Node 24, so the pinned `node` dev dependency is not needed.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY commands ./commands
RUN ./node_modules/.bin/tsc -p tsconfig.build.json

# Production dependencies only.
FROM node:24-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
COPY patches ./patches
# Install scripts are skipped (the pinned `node` dev dependency is not installed here); the driver patches
# (patches/README.md) are applied explicitly.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && ./node_modules/.bin/patch-package \
 && npm cache clean --force

# Runtime: compiled JavaScript, no TypeScript loader, not root.
FROM node:24-bookworm-slim
ENV NODE_ENV=production \
    DATA_DIR=/app/data
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY drizzle ./drizzle
RUN mkdir -p /app/data && chown node:node /app/data
USER node
VOLUME ["/app/data"]
# SIGTERM lets the bot finish the jobs in hand and give their leases back.
STOPSIGNAL SIGTERM
# A small young generation keeps an idle bot's memory low (see bench/README.md).
CMD ["node", "--max-semi-space-size=4", "dist/src/main.js"]
