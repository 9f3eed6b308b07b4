#!/usr/bin/env bash
# Checks of the deployment files that run without a Docker engine or a Kubernetes cluster:
#   - every YAML file parses; docker-compose.yml is wired as documented; the Dockerfile has its
#     essentials (multi-stage, numeric non-root USER, HEALTHCHECK on /healthz, EXPOSE 8080, ...);
#     the image installs every model provider package the @engram/ai-sdk catalog names
#     (ENGRAM_PROVIDERS, default all, at the versions the lockfile pins);
#   - deploy/nginx/engram.conf (the compose proxy): checked against the server (body limit, proxy
#     headers, /metrics kept out) and with `nginx -t` from Debian's nginx (installed with apt when
#     missing and run as root) under a scratch prefix with a throwaway self-signed certificate;
#   - `docker compose config`, or `docker-compose config` (Debian's package, installed with apt when
#     missing and run as root): the file is valid for Compose;
#   - the Helm chart with the real helm (built once from the Go module proxy into
#     ${ENGRAM_SERVICES_HOME:-~/.cache/engram-services}/helm/<version>): `helm lint --strict`,
#     `helm template` with default values, with ingress and autoscaling on, without workers, with
#     an existing Secret, with the bootstrap key instead of a data volume, with the chart's
#     PostgreSQL + Neo4j and Qdrant StatefulSets, and with each of values-dev/-staging/-production.yaml, each rendering
#     parsed and checked (rolling updates, PodDisruptionBudgets, monitoring in production); bad
#     values must fail to render.
#   - with --build: builds the image's application tree with deploy/docker/build-app.sh (as the
#     Dockerfile does) in a scratch copy, and starts it: /healthz answers and the pgvector adapter
#     is found. Needs the npm registry and a few minutes.
#
#   bash deploy/check.sh [--build]
#
# Without Go (or when helm cannot be built) the Helm checks are skipped with a message, unless
# ENGRAM_REQUIRE_HELM=1. Needs the workspace installed (it uses the `yaml` package).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
# The pinned pnpm that `npm test` / scripts/bootstrap.mjs installs (used by --build).
[[ -d "$root/.tools/node_modules/.bin" ]] && export PATH="$root/.tools/node_modules/.bin:$PATH"

helm_version=${ENGRAM_HELM_VERSION:-v3.22.0}
services_home=${ENGRAM_SERVICES_HOME:-$HOME/.cache/engram-services}
chart=deploy/helm/engram
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

passed=0 failed=0 skipped=0
pass() { passed=$((passed + 1)); echo "ok   $*"; }
fail() { failed=$((failed + 1)); echo "FAIL $*"; }
skip() { skipped=$((skipped + 1)); echo "skip $*"; }
step() { # step <description> <command...>: the command's output is shown only when it fails
  local description=$1; shift
  if "$@" > "$work/step.log" 2>&1; then pass "$description"; else fail "$description"; sed 's/^/     /' "$work/step.log"; fi
}

echo "== deployment files"
mapfile -t yaml_files < <(
  { echo docker-compose.yml; find deploy -name '*.yaml' -o -name '*.yml'; } \
    | grep -v "^$chart/templates/" | sort -u
)
node deploy/check-manifests.mjs yaml "${yaml_files[@]}" && pass "YAML parses (${#yaml_files[@]} files)" || fail "YAML parses"
node deploy/check-manifests.mjs compose docker-compose.yml && pass "docker-compose.yml wiring" || fail "docker-compose.yml wiring"
node deploy/check-manifests.mjs dockerfile Dockerfile && pass "Dockerfile lint" || fail "Dockerfile lint"
node deploy/check-manifests.mjs providers && pass "the image installs every model provider of the catalog (ENGRAM_PROVIDERS)" || fail "the image installs every model provider of the catalog (ENGRAM_PROVIDERS)"
step "deploy/docker/build-app.sh: bash -n" bash -n deploy/docker/build-app.sh

echo "== compose CLI"
if ! docker compose version > /dev/null 2>&1 && ! command -v docker-compose > /dev/null 2>&1 \
    && [[ $(id -u) -eq 0 ]] && command -v apt-get > /dev/null 2>&1; then
  # Debian's docker-compose validates a compose file without a Docker engine.
  echo "installing docker-compose from Debian's packages"
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker-compose; } \
    > "$work/apt.log" 2>&1 || tail -5 "$work/apt.log"
fi
if docker compose version > /dev/null 2>&1; then
  step "docker compose config" docker compose -f docker-compose.yml config --quiet
elif command -v docker-compose > /dev/null 2>&1; then
  step "docker-compose config ($(docker-compose version --short 2>/dev/null))" \
    docker-compose -f docker-compose.yml config --quiet
else
  skip "docker compose config: no compose CLI here (docker compose plugin or docker-compose)"
fi

echo "== nginx proxy (deploy/nginx/engram.conf)"
node deploy/check-manifests.mjs nginx deploy/nginx/engram.conf && pass "nginx proxy configuration" || fail "nginx proxy configuration"
if ! command -v nginx > /dev/null 2>&1 && [[ ! -x /usr/sbin/nginx ]] && [[ $(id -u) -eq 0 ]] \
    && command -v apt-get > /dev/null 2>&1; then
  echo "installing nginx from Debian's packages"
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nginx; } \
    > "$work/apt-nginx.log" 2>&1 || tail -5 "$work/apt-nginx.log"
fi
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
if [[ -x "$nginx_bin" ]] && command -v openssl > /dev/null 2>&1; then
  # The configuration as the proxy container loads it (conf.d/ inside http {}), under a scratch
  # prefix with a throwaway self-signed certificate: nothing is read from or written to /etc.
  prefix="$work/nginx"
  mkdir -p "$prefix/conf/certs" "$prefix/logs" "$prefix/temp"
  cp deploy/nginx/engram.conf "$prefix/conf/engram.conf"
  openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost \
    -keyout "$prefix/conf/certs/tls.key" -out "$prefix/conf/certs/tls.crt" > "$work/openssl.log" 2>&1
  cat > "$prefix/conf/nginx.conf" <<EOF
pid $prefix/nginx.pid;
error_log $prefix/logs/error.log;
events {}
http {
    access_log off;
    client_body_temp_path $prefix/temp/body;
    proxy_temp_path $prefix/temp/proxy;
    fastcgi_temp_path $prefix/temp/fastcgi;
    uwsgi_temp_path $prefix/temp/uwsgi;
    scgi_temp_path $prefix/temp/scgi;
    include engram.conf;
}
EOF
  step "nginx -t ($("$nginx_bin" -v 2>&1 | sed 's/.*: //'))" \
    "$nginx_bin" -t -q -p "$prefix/" -e "$prefix/logs/error.log" -c "$prefix/conf/nginx.conf"
elif [[ ${ENGRAM_REQUIRE_NGINX:-} == 1 ]]; then
  fail "nginx -t: nginx is not available (Debian's nginx package)"
else
  skip "nginx -t: no nginx here (Debian's nginx package) or no openssl"
fi

echo "== monitoring (Grafana dashboard, Prometheus alert rules)"
if ! command -v promtool > /dev/null 2>&1 && [[ $(id -u) -eq 0 ]] && command -v apt-get > /dev/null 2>&1; then
  # Debian's prometheus package carries promtool; its service is not started here (no systemd).
  echo "installing promtool from Debian's prometheus package"
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus; } \
    > "$work/apt-prometheus.log" 2>&1 || tail -5 "$work/apt-prometheus.log"
fi
if command -v promtool > /dev/null 2>&1; then
  step "promtool check rules" promtool check rules deploy/prometheus/engram-alerts.yaml
  step "promtool test rules (each alert fires on its series)" promtool test rules deploy/prometheus/engram-alerts.test.yaml
elif [[ ${ENGRAM_REQUIRE_PROMTOOL:-} == 1 ]]; then
  fail "promtool is not available (Debian's prometheus package)"
else
  skip "promtool checks: no promtool here (Debian's prometheus package)"
fi
node deploy/check-manifests.mjs monitoring && pass "Grafana dashboard schema and metric names" || fail "Grafana dashboard schema and metric names"

echo "== helm"
helm_dir="$services_home/helm/$helm_version"
helm="$helm_dir/bin/helm"
if [[ ! -x "$helm" ]] && command -v go > /dev/null 2>&1; then
  echo "building helm $helm_version from the Go module proxy into $helm_dir (once)"
  started=$(date +%s)
  if (
    mkdir -p "$helm_dir"
    export GOBIN="$helm_dir/bin" CGO_ENABLED=0 GOFLAGS=-modcacherw
    go install "helm.sh/helm/v3/cmd/helm@$helm_version"
  ) > "$work/helm-build.log" 2>&1; then
    echo "built helm in $(( $(date +%s) - started ))s"
  else
    tail -20 "$work/helm-build.log"
  fi
fi
if [[ -x "$helm" ]]; then
  echo "helm $helm_version ($("$helm" version --short))"
  # A helm built with `go install` has no Kubernetes version stamped in (it assumes 1.20): render
  # for a current one. The chart needs 1.23 or newer (autoscaling/v2).
  kube_version=${ENGRAM_KUBE_VERSION:-1.31.0}
  full=(--set ingress.enabled=true --set autoscaling.enabled=true
    --set secrets.databaseUrl=postgres://engram:secret@postgres:5432/engram
    --set secrets.redisUrl=redis://redis:6379 --set secrets.openaiApiKey=sk-test
    --set config.graph=neo4j --set config.neo4j.url=bolt://neo4j:7687)
  step "helm lint --strict (defaults)" "$helm" lint --strict "$chart"
  step "helm lint --strict (ingress, autoscaling, secrets)" "$helm" lint --strict "$chart" "${full[@]}"
  render() { # render <mode> <helm template arguments...>
    local mode=$1; shift
    if "$helm" template engram "$chart" --namespace engram --kube-version "$kube_version" "$@" > "$work/$mode.yaml" 2> "$work/$mode.err"; then
      node deploy/check-manifests.mjs rendered "$mode" "$work/$mode.yaml" && pass "helm template ($mode)" || fail "helm template ($mode)"
    else
      fail "helm template ($mode)"; sed 's/^/     /' "$work/$mode.err"
    fi
  }
  render defaults
  render full "${full[@]}"
  render no-worker --set worker.enabled=false
  render existing-secret --set secrets.existingSecret=engram-secrets
  render monitoring --set metrics.grafanaDashboard.enabled=true --set metrics.prometheusRule.enabled=true
  render no-budget --set api.podDisruptionBudget.enabled=false
  bootstrap_key=0123456789abcdef0123456789abcdef0123456789abcdef
  # API keys without a shared volume: the bootstrap key from the Secret.
  render bootstrap-key --set persistence.enabled=false --set secrets.bootstrapKey=$bootstrap_key
  # The databases the chart can run, wired into the API's environment.
  render databases --set postgres.enabled=true --set-string 'secrets.postgresPassword=p@ss word' \
    --set neo4j.enabled=true --set secrets.neo4jPassword=graph-secret --set config.graph=neo4j \
    --set persistence.enabled=false --set secrets.bootstrapKey=$bootstrap_key
  render qdrant --set qdrant.enabled=true --set config.vectorStore=qdrant
  refused() { # refused <description> <expected message> <helm template arguments...>
    local description=$1 message=$2; shift 2
    "$helm" template engram "$chart" --kube-version "$kube_version" "$@" > /dev/null 2> "$work/refused.err" || true
    if grep -qF "$message" "$work/refused.err"; then pass "helm template refuses $description"; else fail "helm template accepted $description"; sed 's/^/     /' "$work/refused.err"; fi
  }
  refused "postgres.enabled without a password" "postgres.enabled needs secrets.postgresPassword" --set postgres.enabled=true
  refused "neo4j.enabled without a password" "neo4j.enabled needs secrets.neo4jPassword" --set neo4j.enabled=true
  refused "a short bootstrap key" "secrets.bootstrapKey must be at least 32 characters" --set secrets.bootstrapKey=short
  # The values of each environment, as `helm install -f` takes them.
  for environment in dev staging production; do
    values="$chart/values-$environment.yaml"
    step "helm lint --strict (values-$environment)" "$helm" lint --strict "$chart" -f "$values"
    render "values-$environment" -f "$values"
  done
  "$helm" template engram "$chart" --kube-version "$kube_version" \
    --set api.podDisruptionBudget.minAvailable=2 > /dev/null 2> "$work/bad-budget.err" || true
  if grep -q "api.podDisruptionBudget.minAvailable (2) must be below the api replicas (2)" "$work/bad-budget.err"; then
    pass "helm template refuses a PodDisruptionBudget that would block node drains"
  else
    fail "helm template accepted minAvailable 2 for 2 API replicas"; sed 's/^/     /' "$work/bad-budget.err"
  fi
  "$helm" template engram "$chart" --kube-version "$kube_version" --set autoscaling.enabled=true \
    --set autoscaling.targetCPUUtilizationPercentage=150 > /dev/null 2> "$work/bad.err" || true
  if grep -q "targetCPUUtilizationPercentage must be from 1 to 100" "$work/bad.err"; then
    pass "helm template refuses a CPU target of 150%"
  else
    fail "helm template accepted a CPU target of 150%"
  fi
elif [[ "${ENGRAM_REQUIRE_HELM:-0}" == 1 ]]; then
  fail "helm $helm_version is not available (needs Go to build it from the Go module proxy)"
else
  skip "helm checks: helm $helm_version could not be built here (needs Go and the Go module proxy); YAML checks only"
fi

if [[ "${1:-}" == --build ]]; then
  echo "== application tree of the image (deploy/docker/build-app.sh, as in the Dockerfile)"
  mkdir -p "$work/src"
  tar --exclude=node_modules --exclude=dist --exclude=.turbo --exclude=.tools --exclude=.git \
    --exclude=.services --exclude='*.tsbuildinfo' -cf - . | tar -xf - -C "$work/src"
  if (cd "$work/src" && ENGRAM_ADAPTERS=pgvector bash deploy/docker/build-app.sh "$work/app") > "$work/build.log" 2>&1; then
    pass "build-app.sh ($(du -sh "$work/app" | cut -f1))"
    port=$(node -e "const s=require('node:net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
    (cd "$work/app" && ENGRAM_HOME="$work/data" ENGRAM_VECTOR_STORE=pgvector \
      PGVECTOR_URL=postgres://engram:x@127.0.0.1:9/engram ENGRAM_PORT=$port \
      exec node dist/bin.js serve --insecure-local > "$work/serve.log" 2>&1) &
    server=$!
    for _ in $(seq 1 60); do curl -fs "http://127.0.0.1:$port/healthz" > /dev/null && break; sleep 0.5; done
    step "built tree: /healthz answers" curl -fs "http://127.0.0.1:$port/healthz"
    # Unreachable database: /readyz is 503 with the adapter's own error, so the adapter loaded.
    curl -s "http://127.0.0.1:$port/readyz" > "$work/readyz.json" || true
    step "built tree: @engram/pgvector is found (readyz reports the database, not a missing package)" \
      bash -c 'grep -q "engram/pgvector" "$1" || { cat "$1"; exit 1; }' _ "$work/readyz.json"
    kill "$server" 2> /dev/null || true
    wait "$server" 2> /dev/null || true
    # A provider package of the image answers (here: a refused connection), not "not installed".
    step "built tree: the package of every catalog provider loads" \
      node deploy/check-providers.mjs "$work/app"
    step "built tree: engram keys create" \
      node "$work/app/dist/bin.js" keys create --project smoke --data-dir "$work/data" --json
  else
    fail "build-app.sh"; tail -30 "$work/build.log"
  fi
fi

echo "deploy: $passed passed, $failed failed, $skipped skipped"
[[ $failed -eq 0 ]]
