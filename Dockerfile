# syntax=docker/dockerfile:1
# Two images from the workspace: `--target control-plane` (bin/switchyard serve with the built
# dashboard) and `--target agent` (bin/switchyard-agent with nft). docker-compose.yml builds both.

FROM node:20-bookworm-slim AS workspace
ENV NEXT_TELEMETRY_DISABLED=1 CHECKPOINT_DISABLE=1 PRISMA_HIDE_UPDATE_MESSAGE=1 \
    # node-gyp (better-sqlite3) builds against the image's own Node headers, never downloaded ones.
    npm_config_nodedir=/usr/local
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends python3 make g++ bash ca-certificates \
    && rm -rf /var/lib/apt/lists/* && npm install -g pnpm@12.4.2
WORKDIR /app
COPY . .
RUN pnpm install --frozen-lockfile --reporter=silent \
    && (cd packages/db && PRISMA_SCHEMA_ENGINE_BINARY=/bin/true node_modules/.bin/prisma generate) \
    && (cd apps/web && node_modules/.bin/next build)

FROM node:20-bookworm-slim AS control-plane
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends bash && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=workspace /app /app
VOLUME /var/lib/switchyard
EXPOSE 3000
ENV SWITCHYARD_DATA_DIR=/var/lib/switchyard
CMD ["bin/switchyard", "serve", "-H", "0.0.0.0", "-P", "3000"]

FROM node:20-bookworm-slim AS agent
# nft for every apply; libnftnl/libmnl for the agent's netlink fast path (loaded through koffi).
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends bash nftables iproute2 libnftnl11 libmnl0 \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=workspace /app /app
VOLUME /var/lib/switchyard-agent
CMD ["bin/switchyard-agent", "--managed", "--token-file", "/etc/switchyard/node-token", "-H", "127.0.0.1", "-P", "5555", "--state-dir", "/var/lib/switchyard-agent"]
