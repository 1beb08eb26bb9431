# syntax=docker/dockerfile:1
# shieldwall in a container: Node 24 runs the TypeScript sources directly (type stripping), so the image holds
# sources plus production dependencies and no build output.

FROM node:24-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# Production dependencies only. @tensorflow/tfjs-node is optional: where its native download fails the node
# falls back to the wasm backend and says so in status.
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM node:24-bookworm-slim
ENV NODE_ENV=production \
    SHIELDWALL_DATA_DIR=/var/lib/shieldwall \
    SHIELDWALL_API_HOST=0.0.0.0 \
    SHIELDWALL_API_PORT=7420
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY config ./config
COPY crypto ./crypto
COPY protocol ./protocol
COPY node ./node
COPY sim ./sim
# The API listens on 0.0.0.0 only inside the container, and always behind the bearer token the node writes
# to <dataDir>/api-token on first start (or SHIELDWALL_API_TOKEN); publish the port to 127.0.0.1 on the host.
RUN groupadd --system shieldwall && useradd --system --gid shieldwall --home-dir /var/lib/shieldwall shieldwall \
    && mkdir -p /var/lib/shieldwall && chown shieldwall:shieldwall /var/lib/shieldwall
USER shieldwall
VOLUME ["/var/lib/shieldwall"]
# 7420: control API (HTTP); 7421: libp2p (TCP)
EXPOSE 7420 7421
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["node", "-e", "fetch('http://127.0.0.1:7420/healthz').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "node/cli/main.ts"]
CMD ["start"]
