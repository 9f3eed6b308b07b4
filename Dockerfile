# syntax=docker/dockerfile:1
# Engram HTTP service: `engram serve` (the API on port 8080) and `engram worker` (queued adds).
#
#   docker build -t engram .
#   docker build -t engram --build-arg ENGRAM_ADAPTERS="pgvector neo4j qdrant" .
#   docker build -t engram --build-arg ENGRAM_PROVIDERS="anthropic cohere" .
#
# ENGRAM_ADAPTERS lists the store adapters (packages under adapters/) installed beside the
# server; the embedded SQLite store and the AI SDK models are always there. ENGRAM_PROVIDERS
# picks the optional model provider packages (default `all`: every provider ENGRAM_LLM,
# ENGRAM_EMBEDDER and ENGRAM_RERANKER can name; `none`: OpenAI and Ollama only).

ARG NODE_IMAGE=node:20-bookworm-slim

# ---- build: install from the lockfile, compile, deploy production dependencies to /out ----
FROM ${NODE_IMAGE} AS build
# better-sqlite3 compiles from source when no prebuilt binary is available.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
ENV TURBO_TELEMETRY_DISABLED=1 \
    DO_NOT_TRACK=1 \
    CI=true
# The pnpm version pinned in package.json (`packageManager`).
COPY package.json ./
RUN npm install -g "$(node -p 'require("./package.json").packageManager')" \
 && pnpm --version
COPY . .
ARG ENGRAM_ADAPTERS="pgvector"
ARG ENGRAM_PROVIDERS="all"
RUN --mount=type=cache,id=engram-pnpm-store,target=/pnpm/store \
    pnpm config set store-dir /pnpm/store \
 && ENGRAM_ADAPTERS="${ENGRAM_ADAPTERS}" ENGRAM_PROVIDERS="${ENGRAM_PROVIDERS}" \
    bash deploy/docker/build-app.sh /out

# ---- runtime: Node.js, the deployed tree, a non-root user ----
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    ENGRAM_HOME=/var/lib/engram \
    ENGRAM_HOST=0.0.0.0 \
    ENGRAM_PORT=8080
RUN groupadd --system --gid 10001 engram \
 && useradd --system --uid 10001 --gid engram --home-dir /var/lib/engram --no-create-home \
      --shell /usr/sbin/nologin engram \
 && mkdir -p /var/lib/engram \
 && chown engram:engram /var/lib/engram
# The application is owned by root and read-only for the service user.
COPY --from=build /out /app
RUN ln -s /app/dist/bin.js /usr/local/bin/engram
# The working directory is where the server also looks for adapter packages.
WORKDIR /app
# Numeric, so that Kubernetes can verify runAsNonRoot.
USER 10001:10001
# API keys (api-keys.db) and, with the embedded store, projects/<project>.db.
VOLUME ["/var/lib/engram"]
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.ENGRAM_PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["engram"]
CMD ["serve"]
