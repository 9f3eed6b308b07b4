#!/usr/bin/env node
// Static checks of the deployment files, run by deploy/check.sh:
//
//   node deploy/check-manifests.mjs yaml <file...>          every file parses as YAML
//   node deploy/check-manifests.mjs compose <file>          docker-compose.yml wiring
//   node deploy/check-manifests.mjs dockerfile <file>       Dockerfile essentials
//   node deploy/check-manifests.mjs providers               the image installs every model provider
//                                                           package the @engram/ai-sdk catalog names,
//                                                           at the version the lockfile pins
//   node deploy/check-manifests.mjs nginx <file>            the proxy's nginx configuration
//   node deploy/check-manifests.mjs rendered <mode> <file>  a `helm template` output
//   node deploy/check-manifests.mjs monitoring              the Grafana dashboard against its JSON
//                                                           schema, and every metric it and the
//                                                           alert rules use is one the server exports
//
// Uses the `yaml` package of the workspace (a dependency of @engram/server); nothing is fetched.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { aiSdkManifest, catalogProviders, providerPackages } from './docker/provider-packages.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(root, 'packages/server/package.json'));
const { parseAllDocuments } = require('yaml');

let failures = 0;
let passes = 0;
function check(condition, message) {
  if (condition) {
    passes += 1;
  } else {
    failures += 1;
    console.error(`  FAIL ${message}`);
  }
}

function parseFile(file) {
  const documents = parseAllDocuments(readFileSync(file, 'utf8'), {
    uniqueKeys: true,
    merge: true,
  });
  for (const document of documents) {
    if (document.errors.length > 0) {
      throw new Error(`${file}: ${document.errors.map((error) => error.message).join('; ')}`);
    }
  }
  return documents.map((document) => document.toJS({ maxAliasCount: 100 })).filter(Boolean);
}

function adapterExists(name) {
  return existsSync(join(root, 'adapters', name, 'package.json'));
}

function checkYaml(files) {
  for (const file of files) {
    try {
      parseFile(file);
      check(true);
    } catch (error) {
      check(false, `YAML does not parse: ${error.message}`);
    }
  }
}

function checkCompose(file) {
  const [compose] = parseFile(file);
  const services = compose.services ?? {};
  for (const name of ['api', 'worker', 'postgres', 'neo4j', 'redis']) {
    check(services[name], `compose: service ${name} is missing`);
  }
  const { api, worker, postgres, neo4j, redis } = services;
  check(/^pgvector\/pgvector:/.test(postgres?.image ?? ''), 'compose: postgres is not pgvector');
  const conformanceTag = readFileSync(
    join(root, 'conformance/services/pgvector/Dockerfile'),
    'utf8',
  ).match(/^FROM\s+(\S+)/m)?.[1];
  check(
    !conformanceTag || postgres?.image === conformanceTag,
    `compose: postgres image ${postgres?.image} differs from the conformance image ${conformanceTag}`,
  );
  check(/^neo4j:5\./.test(neo4j?.image ?? ''), 'compose: neo4j is not Neo4j 5');
  check(/^redis:7/.test(redis?.image ?? ''), 'compose: redis is not Redis 7');
  for (const [name, service] of Object.entries(services)) {
    if (name === 'worker') {
      check(service.healthcheck?.disable === true, 'compose: worker must disable the HTTP check');
    } else {
      check(service.healthcheck?.test, `compose: ${name} has no healthcheck`);
    }
  }
  for (const [name, service] of [
    ['api', api],
    ['worker', worker],
  ]) {
    const env = service?.environment ?? {};
    const dependsOn = service?.depends_on ?? {};
    for (const backend of ['postgres', 'neo4j', 'redis']) {
      check(
        dependsOn[backend]?.condition === 'service_healthy',
        `compose: ${name} must wait for ${backend} to be healthy`,
      );
    }
    check(env.REDIS_URL === 'redis://redis:6379', `compose: ${name} REDIS_URL`);
    check(env.ENGRAM_VECTOR_STORE === 'pgvector', `compose: ${name} ENGRAM_VECTOR_STORE`);
    check(
      /@postgres:5432\//.test(env.ENGRAM_VECTOR_STORE_URL ?? '') &&
        env.PGVECTOR_URL === env.ENGRAM_VECTOR_STORE_URL,
      `compose: ${name} store URLs (ENGRAM_VECTOR_STORE_URL and PGVECTOR_URL) must name postgres`,
    );
    check(env.ENGRAM_HOME === '/var/lib/engram', `compose: ${name} ENGRAM_HOME`);
    check(
      (service?.volumes ?? []).some((volume) => String(volume).endsWith(':/var/lib/engram')),
      `compose: ${name} must mount the shared data volume at /var/lib/engram`,
    );
    // Every adapter the environment names must be built into the image and exist.
    const adapters = String(service?.build?.args?.ENGRAM_ADAPTERS ?? 'pgvector').split(/\s+/);
    for (const variable of ['ENGRAM_VECTOR_STORE', 'ENGRAM_GRAPH', 'ENGRAM_HISTORY_STORE']) {
      const adapter = env[variable];
      if (!adapter || adapter === 'sqlite' || adapter === 'memory' || adapter === 'none') continue;
      check(
        adapters.includes(adapter),
        `compose: ${name} ${variable}=${adapter} but ENGRAM_ADAPTERS="${adapters.join(' ')}"`,
      );
    }
    for (const adapter of adapters.filter(Boolean)) {
      check(adapterExists(adapter), `compose: ENGRAM_ADAPTERS names ${adapter}, not in adapters/`);
    }
  }
  check(
    api?.environment?.ENGRAM_INPROCESS_WORKERS === '0',
    'compose: api must leave jobs to worker',
  );
  check(
    (api?.command ?? []).join(' ') === 'serve' && (worker?.command ?? [])[0] === 'worker',
    'compose: api runs serve, worker runs worker',
  );
  check((api?.ports ?? []).length === 0, 'compose: api is not published on the host');
  const { proxy } = services;
  check(/^nginx:/.test(proxy?.image ?? ''), 'compose: proxy is nginx');
  check(
    (proxy?.ports ?? []).some((port) => String(port).endsWith(':443')),
    'compose: proxy publishes 443',
  );
  const mounts = (proxy?.volumes ?? []).map(String);
  check(
    mounts.some((mount) => mount.startsWith('./deploy/nginx/engram.conf:/etc/nginx/conf.d/')),
    'compose: proxy mounts deploy/nginx/engram.conf',
  );
  check(
    mounts.some((mount) => mount.startsWith('./deploy/nginx/certs:/etc/nginx/certs')),
    'compose: proxy mounts deploy/nginx/certs',
  );
  check(
    proxy?.depends_on?.api?.condition === 'service_healthy',
    'compose: proxy waits for a healthy api',
  );
}

/** Parses an nginx size ("1m", "512k", "1048576") into bytes. */
function nginxBytes(size) {
  const match = /^(\d+)([kKmMgG]?)$/.exec(size ?? '');
  if (!match) return Number.NaN;
  const unit = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[match[2].toLowerCase()];
  return Number(match[1]) * unit;
}

/** The proxy's configuration against the server: body limit, headers, metrics, TLS. */
function checkNginx(file) {
  const text = readFileSync(file, 'utf8').replace(/#.*$/gm, '');
  const directive = (name) =>
    [...text.matchAll(new RegExp(`^\\s*${name}\\s+([^;]+);`, 'gm'))].map((match) =>
      match[1].trim(),
    );
  const serverDefault = readFileSync(join(root, 'packages/server/src/server-config.ts'), 'utf8')
    .match(/bodyLimitBytes: file\.bodyLimitBytes \?\? ([\d *]+),/)?.[1]
    ?.split('*')
    .reduce((product, factor) => product * Number(factor.trim()), 1);
  const [limit] = directive('client_max_body_size');
  check(
    serverDefault > 0 && nginxBytes(limit) === serverDefault,
    `nginx: client_max_body_size ${limit} is not the server's body limit (${serverDefault} bytes)`,
  );
  check(
    directive('listen').some((value) => /^443 ssl\b/.test(value)),
    'nginx: listens on 443 ssl',
  );
  check(
    directive('ssl_certificate').includes('certs/tls.crt') &&
      directive('ssl_certificate_key').includes('certs/tls.key'),
    'nginx: certificate and key from certs/',
  );
  check(
    directive('ssl_protocols').every((value) => !/SSLv|TLSv1(\.1)?\b(?!\.)/.test(value)),
    'nginx: TLS 1.2 or newer only',
  );
  const headers = directive('proxy_set_header').map((value) => value.split(/\s+/)[0].toLowerCase());
  for (const header of [
    'host',
    'x-forwarded-for',
    'x-forwarded-proto',
    'x-real-ip',
    'x-request-id',
  ]) {
    check(headers.includes(header), `nginx: sets ${header} for the API`);
  }
  check(
    /location\s+~\s+\^\/metrics\(\/\|\$\)\s*\{\s*return\s+404;/.test(text),
    'nginx: /metrics is not proxied',
  );
  check(
    directive('proxy_pass').every((value) => value === '$engram_api') &&
      directive('set').some((value) => value === '$engram_api http://api:8080'),
    'nginx: proxies to api:8080',
  );
}

function checkDockerfile(file) {
  const text = readFileSync(file, 'utf8');
  const lines = text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'));
  const instructions = lines.map((line) => {
    const [keyword, ...rest] = line.split(/\s+/);
    return { keyword: keyword.toUpperCase(), args: rest.join(' ') };
  });
  const froms = instructions.filter((instruction) => instruction.keyword === 'FROM');
  check(froms.length >= 2, 'Dockerfile: not multi-stage');
  check(
    /^node:20-bookworm-slim$/m.test(text.match(/^ARG NODE_IMAGE=(\S+)/m)?.[1] ?? ''),
    'Dockerfile: base image is not node:20-bookworm-slim',
  );
  const finalStage = instructions.slice(instructions.lastIndexOf(froms.at(-1)));
  const users = finalStage.filter((instruction) => instruction.keyword === 'USER');
  const user = users.at(-1)?.args ?? '';
  check(users.length > 0, 'Dockerfile: the final stage sets no USER');
  check(
    /^[1-9][0-9]*(:[1-9][0-9]*)?$/.test(user),
    `Dockerfile: final USER "${user}" must be a numeric non-root uid (for runAsNonRoot)`,
  );
  const healthcheck = finalStage.find((instruction) => instruction.keyword === 'HEALTHCHECK');
  check(/\/healthz/.test(healthcheck?.args ?? ''), 'Dockerfile: no HEALTHCHECK on /healthz');
  check(
    finalStage.some((i) => i.keyword === 'EXPOSE' && /\b8080\b/.test(i.args)),
    'Dockerfile: no EXPOSE 8080',
  );
  check(
    finalStage.some((i) => i.keyword === 'ENTRYPOINT' && i.args === '["engram"]'),
    'Dockerfile: ENTRYPOINT is not ["engram"]',
  );
  check(
    finalStage.some((i) => i.keyword === 'CMD' && /"serve"/.test(i.args)),
    'Dockerfile: CMD does not run serve',
  );
  check(
    finalStage.some((i) => i.keyword === 'VOLUME' && /\/var\/lib\/engram/.test(i.args)),
    'Dockerfile: no data VOLUME',
  );
  check(
    /packageManager/.test(text) && /build-app\.sh/.test(text),
    'Dockerfile: must install the pinned pnpm and run deploy/docker/build-app.sh',
  );
  check(/python3/.test(text) && /\bg\+\+/.test(text), 'Dockerfile: build stage needs python3 g++');
  check(!/^ADD\s/m.test(text), 'Dockerfile: use COPY, not ADD');
  check(!/:latest\b/.test(text), 'Dockerfile: no :latest images');
  check(existsSync(join(root, '.dockerignore')), '.dockerignore is missing');
  const ignore = readFileSync(join(root, '.dockerignore'), 'utf8');
  check(/node_modules/.test(ignore) && /dist/.test(ignore), '.dockerignore: node_modules, dist');
  check(existsSync(join(root, 'deploy/docker/build-app.sh')), 'deploy/docker/build-app.sh missing');
}

/**
 * The image installs the model provider packages through deploy/docker/build-app.sh, which asks
 * provider-packages.mjs for them (ENGRAM_PROVIDERS, default all). Checks that `all` is every
 * package the catalog names, each an optional peer of @engram/ai-sdk pinned exactly as the
 * lockfile has it, and that the Dockerfile and build-app.sh pass the selection through.
 */
function checkProviders() {
  const providers = catalogProviders();
  check(providers.length >= 12, `catalog: only ${providers.length} providers parsed`);
  const manifest = aiSdkManifest();
  const [lock] = parseFile(join(root, 'pnpm-lock.yaml'));
  const locked = lock?.importers?.['adapters/ai-sdk']?.devDependencies ?? {};
  const installed = new Map(
    providerPackages('all').map((spec) => {
      const at = spec.lastIndexOf('@');
      return [spec.slice(0, at), spec.slice(at + 1)];
    }),
  );
  for (const { prefix, packageName } of providers) {
    const version = manifest.devDependencies?.[packageName];
    check(
      manifest.peerDependenciesMeta?.[packageName]?.optional === true,
      `${prefix}: ${packageName} is not an optional peer dependency of @engram/ai-sdk`,
    );
    check(
      installed.get(packageName) === version,
      `${prefix}: the image does not install ${packageName}@${version}`,
    );
    const lockedVersion = String(locked[packageName]?.version ?? '').replace(/\(.*$/, '');
    check(
      lockedVersion === version,
      `${prefix}: ${packageName} is ${version} in package.json but ${lockedVersion || 'missing'} in pnpm-lock.yaml`,
    );
  }
  for (const name of Object.keys(manifest.peerDependenciesMeta ?? {})) {
    check(
      providers.some((provider) => provider.packageName === name),
      `${name}: an optional peer of @engram/ai-sdk that no catalog provider names`,
    );
  }
  const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8').replace(/\\\n/g, ' ');
  check(
    /^ARG ENGRAM_PROVIDERS="?all"?$/m.test(dockerfile),
    'Dockerfile: no ARG ENGRAM_PROVIDERS defaulting to all',
  );
  check(
    /ENGRAM_PROVIDERS="\$\{ENGRAM_PROVIDERS\}"[^\n]*build-app\.sh/.test(dockerfile),
    'Dockerfile: ENGRAM_PROVIDERS is not passed to deploy/docker/build-app.sh',
  );
  const buildApp = readFileSync(join(root, 'deploy/docker/build-app.sh'), 'utf8');
  check(
    buildApp.includes(`provider-packages.mjs "\${ENGRAM_PROVIDERS-all}"`),
    'build-app.sh: providers do not come from provider-packages.mjs with ENGRAM_PROVIDERS (default all)',
  );
  return providers.length;
}

function byKind(documents, kind, component) {
  return documents.filter(
    (document) =>
      document.kind === kind &&
      (!component || document.metadata?.labels?.['app.kubernetes.io/component'] === component),
  );
}

function checkContainerSecurity(name, pod) {
  const context = pod.spec.securityContext ?? {};
  check(context.runAsNonRoot === true, `${name}: runAsNonRoot`);
  check(Number(context.runAsUser) > 0, `${name}: runAsUser must be non-zero`);
  for (const container of pod.spec.containers) {
    const security = container.securityContext ?? {};
    check(security.allowPrivilegeEscalation === false, `${name}: allowPrivilegeEscalation false`);
    check(security.capabilities?.drop?.includes('ALL'), `${name}: drops every capability`);
    check(container.resources?.requests && container.resources?.limits, `${name}: resources`);
    const env = container.envFrom ?? [];
    check(
      env.some((e) => e.configMapRef) && env.some((e) => e.secretRef),
      `${name}: env from ConfigMap and Secret`,
    );
    check(
      (container.volumeMounts ?? []).some((mount) => mount.mountPath === '/var/lib/engram'),
      `${name}: data directory mounted`,
    );
  }
}

/** Metrics are scraped on their own port, which the Service does not expose. */
function checkMetrics(documents, configMap) {
  const port = configMap?.data?.ENGRAM_METRICS_PORT;
  check(port !== undefined, 'ConfigMap: ENGRAM_METRICS_PORT');
  check(configMap?.data?.ENGRAM_METRICS_PROJECT_LABELS === 'false', 'ConfigMap: no project labels');
  for (const deployment of byKind(documents, 'Deployment')) {
    const component = deployment.metadata.labels?.['app.kubernetes.io/component'];
    const annotations = deployment.spec.template.metadata.annotations ?? {};
    const [container] = deployment.spec.template.spec.containers;
    const metricsPort = (container.ports ?? []).find((entry) => entry.name === 'metrics');
    check(String(metricsPort?.containerPort) === port, `${component}: metrics container port`);
    check(annotations['prometheus.io/port'] === port, `${component}: scrapes the metrics port`);
  }
  for (const service of byKind(documents, 'Service')) {
    check(
      !(service.spec.ports ?? []).some(
        (entry) => String(entry.targetPort) === port || entry.targetPort === 'metrics',
      ),
      'Service: does not expose the metrics port',
    );
  }
}

/** Every Deployment rolls pods one at a time without losing capacity. */
function checkRollingUpdates(documents) {
  for (const deployment of byKind(documents, 'Deployment')) {
    const component = deployment.metadata.labels?.['app.kubernetes.io/component'];
    const strategy = deployment.spec.strategy ?? {};
    check(strategy.type === 'RollingUpdate', `${component}: RollingUpdate strategy`);
    check(strategy.rollingUpdate?.maxUnavailable === 0, `${component}: maxUnavailable 0`);
    check(strategy.rollingUpdate?.maxSurge === 1, `${component}: maxSurge 1`);
  }
}

/**
 * PodDisruptionBudgets: one per component with 2 or more replicas (the HPA's minimum for an
 * autoscaled API), selecting exactly that component's pods, leaving at least one pod to evict.
 */
function checkDisruptionBudgets(documents, turnedOff) {
  const budgets = byKind(documents, 'PodDisruptionBudget');
  const [hpa] = byKind(documents, 'HorizontalPodAutoscaler');
  for (const deployment of byKind(documents, 'Deployment')) {
    const component = deployment.metadata.labels?.['app.kubernetes.io/component'];
    const replicas =
      deployment.spec.replicas ?? (component === 'api' ? hpa?.spec?.minReplicas : undefined) ?? 1;
    const matching = budgets.filter(
      (budget) => budget.metadata.labels?.['app.kubernetes.io/component'] === component,
    );
    check(
      matching.length === (replicas >= 2 && !turnedOff ? 1 : 0),
      `${component}: ${matching.length} PodDisruptionBudgets for ${replicas} replicas`,
    );
    for (const budget of matching) {
      check(budget.apiVersion === 'policy/v1', `${component}: PodDisruptionBudget is policy/v1`);
      check(
        JSON.stringify(budget.spec.selector?.matchLabels) ===
          JSON.stringify(deployment.spec.selector.matchLabels),
        `${component}: PodDisruptionBudget selects the Deployment's pods`,
      );
      const minimum = budget.spec.minAvailable;
      check(
        Number.isInteger(minimum) && minimum >= 1 && minimum < replicas,
        `${component}: PodDisruptionBudget minAvailable ${minimum} for ${replicas} replicas`,
      );
    }
  }
  return budgets;
}

/** The secret variable `name` as the pods get it: from the chart's Secret, when it makes one. */
function secretValue(documents, name) {
  const [secret] = byKind(documents, 'Secret');
  return secret?.stringData?.[name];
}

/**
 * The databases the chart can run (postgres, neo4j, qdrant): one-replica StatefulSets with a
 * claim template, a Service of the same name, non-root pods, passwords from the Secret, and the
 * API's environment pointing at them. Without a shared data volume, keys come from the Secret.
 */
function checkDatabases(documents, mode, configMap) {
  const fullname = 'engram';
  const expected = {
    databases: ['postgres', 'neo4j'],
    qdrant: ['qdrant'],
    'values-production': [],
    defaults: [],
  }[mode];
  const sets = byKind(documents, 'StatefulSet');
  if (expected) {
    const names = sets.map((set) => set.metadata.labels?.['app.kubernetes.io/component']).sort();
    check(
      JSON.stringify(names) === JSON.stringify([...expected].sort()),
      `${mode}: StatefulSets ${names.join(', ') || 'none'}, expected ${expected.join(', ') || 'none'}`,
    );
  }
  for (const set of sets) {
    const component = set.metadata.labels?.['app.kubernetes.io/component'];
    check(set.spec.replicas === 1, `${component}: one replica`);
    const [service] = byKind(documents, 'Service', component);
    check(
      service?.metadata?.name === set.spec.serviceName,
      `${component}: Service of the StatefulSet`,
    );
    const [claim] = set.spec.volumeClaimTemplates ?? [];
    check(
      claim?.spec?.accessModes?.includes('ReadWriteOnce') &&
        claim?.spec?.resources?.requests?.storage,
      `${component}: a ReadWriteOnce claim per pod`,
    );
    const pod = set.spec.template;
    check(pod.spec.securityContext?.runAsNonRoot === true, `${component}: runAsNonRoot`);
    check(Number(pod.spec.securityContext?.runAsUser) > 0, `${component}: runAsUser non-zero`);
    const [container] = pod.spec.containers;
    check(
      container.securityContext?.allowPrivilegeEscalation === false,
      `${component}: allowPrivilegeEscalation false`,
    );
    check(
      container.volumeMounts?.some((mount) => mount.name === claim?.metadata?.name),
      `${component}: mounts its claim`,
    );
    const selector = set.spec.selector?.matchLabels ?? {};
    check(
      Object.entries(selector).every(([key, value]) => pod.metadata.labels?.[key] === value),
      `${component}: selector matches its pods`,
    );
    const passwords = (container.env ?? []).filter((entry) => entry.valueFrom?.secretKeyRef);
    for (const entry of passwords) {
      check(
        entry.valueFrom.secretKeyRef.name === fullname,
        `${component}: ${entry.name} from the chart's Secret`,
      );
    }
  }
  if (mode === 'databases') {
    check(
      secretValue(documents, 'PGVECTOR_URL') ===
        'postgres://engram:p%40ss%20word@engram-postgres:5432/engram',
      'databases: PGVECTOR_URL points at the chart PostgreSQL, password escaped',
    );
    check(
      secretValue(documents, 'ENGRAM_VECTOR_STORE_URL') === secretValue(documents, 'PGVECTOR_URL'),
      'databases: ENGRAM_VECTOR_STORE_URL is the same database',
    );
    check(
      secretValue(documents, 'POSTGRES_PASSWORD') === 'p@ss word',
      'databases: POSTGRES_PASSWORD',
    );
    check(
      secretValue(documents, 'ENGRAM_API_KEYS_URL') === secretValue(documents, 'PGVECTOR_URL'),
      'databases: the API keys in the chart PostgreSQL (ENGRAM_API_KEYS_URL)',
    );
    check(configMap?.data?.NEO4J_URL === 'bolt://engram-neo4j:7687', 'databases: NEO4J_URL');
    check(configMap?.data?.NEO4J_USERNAME === 'neo4j', 'databases: NEO4J_USERNAME');
  }
  if (mode === 'qdrant') {
    check(configMap?.data?.QDRANT_URL === 'http://engram-qdrant:6333', 'qdrant: QDRANT_URL');
    check(configMap?.data?.ENGRAM_VECTOR_STORE === 'qdrant', 'qdrant: ENGRAM_VECTOR_STORE');
  }
  if (mode === 'databases' || mode === 'bootstrap-key' || mode === 'values-production') {
    const claims = byKind(documents, 'PersistentVolumeClaim');
    check(claims.length === 0, `${mode}: no shared data volume (keys come from the Secret)`);
    for (const deployment of byKind(documents, 'Deployment')) {
      const volumes = deployment.spec.template.spec.volumes ?? [];
      check(
        !volumes.some((volume) => volume.persistentVolumeClaim),
        `${mode}: ${deployment.metadata.name} mounts no claim`,
      );
    }
    check(
      configMap?.data?.ENGRAM_BOOTSTRAP_PROJECT !== undefined,
      `${mode}: ENGRAM_BOOTSTRAP_PROJECT set`,
    );
  }
  if (mode === 'bootstrap-key' || mode === 'databases') {
    check(
      (secretValue(documents, 'ENGRAM_BOOTSTRAP_KEY') ?? '').length >= 32,
      `${mode}: ENGRAM_BOOTSTRAP_KEY in the Secret`,
    );
  }
}

function checkRendered(mode, file) {
  const documents = parseFile(file);
  const [api] = byKind(documents, 'Deployment', 'api');
  check(api, 'rendered: API Deployment missing');
  if (api) {
    const [container] = api.spec.template.spec.containers;
    check(container.livenessProbe?.httpGet?.path === '/healthz', 'api: liveness probe /healthz');
    check(container.readinessProbe?.httpGet?.path === '/readyz', 'api: readiness probe /readyz');
    check(container.ports?.[0]?.containerPort === 8080, 'api: container port 8080');
    check(container.args?.[0] === 'serve', 'api: runs serve');
    checkContainerSecurity('api', api.spec.template);
  }
  const [configMap] = byKind(documents, 'ConfigMap');
  check(configMap?.data?.ENGRAM_HOME === '/var/lib/engram', 'ConfigMap: ENGRAM_HOME');
  check(byKind(documents, 'Service', 'api').length === 1, 'rendered: one API Service');
  checkDatabases(documents, mode, configMap);
  checkMetrics(documents, configMap);
  checkRollingUpdates(documents);
  const budgets = checkDisruptionBudgets(documents, mode === 'no-budget');
  const workers = byKind(documents, 'Deployment', 'worker');
  const hpas = byKind(documents, 'HorizontalPodAutoscaler');
  const ingresses = byKind(documents, 'Ingress');
  if (mode === 'defaults' || mode === 'full') {
    check(workers.length === 1, 'rendered: worker Deployment missing');
    const [worker] = workers;
    if (worker) {
      check(worker.spec.template.spec.containers[0].args[0] === 'worker', 'worker: runs worker');
      checkContainerSecurity('worker', worker.spec.template);
    }
    check(
      configMap?.data?.ENGRAM_INPROCESS_WORKERS === '0',
      'ConfigMap: API leaves jobs to workers',
    );
    check(byKind(documents, 'Secret').length === 1, 'rendered: Secret missing');
  }
  if (mode === 'defaults') {
    check(hpas.length === 0 && ingresses.length === 0, 'defaults: no HPA and no Ingress');
    check(api?.spec.replicas >= 2, 'defaults: at least 2 API replicas');
    check(budgets[0]?.spec?.minAvailable === 1, 'defaults: API PodDisruptionBudget minAvailable 1');
  }
  if (mode === 'no-budget') {
    check(budgets.length === 0, 'no-budget: no PodDisruptionBudget when turned off');
  }
  if (mode === 'values-dev') {
    check(api?.spec.replicas === 1 && workers.length === 0, 'dev: one API pod, no workers');
    check(configMap?.data?.ENGRAM_LOG_LEVEL === 'debug', 'dev: debug logs');
    check(hpas.length === 0, 'dev: no HPA');
  }
  if (mode === 'values-staging') {
    check(api?.spec.replicas === 2 && workers.length === 1, 'staging: 2 API pods, a worker');
    check(configMap?.data?.ENGRAM_LOG_LEVEL === 'info', 'staging: info logs');
  }
  if (mode === 'values-production') {
    const [hpa] = hpas;
    check(hpa?.spec?.minReplicas >= 3, 'production: the API autoscales from 3 pods');
    check(api && api.spec.replicas === undefined, 'production: replicas left to the HPA');
    check(workers[0]?.spec?.replicas >= 2, 'production: 2 workers or more');
    check(budgets.length === 2, 'production: PodDisruptionBudgets for the API and the workers');
    check(configMap?.data?.ENGRAM_LOG_LEVEL === 'warn', 'production: warn logs');
    check(byKind(documents, 'Secret').length === 0, 'production: secrets from an existing Secret');
  }
  if (mode === 'monitoring' || mode === 'values-production') {
    check(
      byKind(documents, 'ConfigMap').some((map) => map.metadata.labels?.grafana_dashboard === '1'),
      `${mode}: monitoring on (Grafana dashboard)`,
    );
    check(byKind(documents, 'PrometheusRule').length === 1, `${mode}: monitoring on (alert rules)`);
  }
  if (mode === 'full') {
    check(hpas.length === 1, 'full: HPA missing');
    const [hpa] = hpas;
    if (hpa) {
      check(hpa.apiVersion === 'autoscaling/v2', 'HPA: autoscaling/v2');
      check(hpa.spec.minReplicas >= 2, `HPA: minReplicas ${hpa.spec.minReplicas} < 2`);
      const cpu = hpa.spec.metrics.find((metric) => metric.resource?.name === 'cpu');
      const target = cpu?.resource?.target?.averageUtilization;
      check(target >= 60 && target <= 70, `HPA: CPU target ${target} not within 60-70%`);
      check(hpa.spec.scaleTargetRef?.name === api?.metadata?.name, 'HPA targets the API');
    }
    check(api && api.spec.replicas === undefined, 'full: replicas left to the HPA');
    check(ingresses.length === 1, 'full: Ingress missing');
    const backend = ingresses[0]?.spec?.rules?.[0]?.http?.paths?.[0]?.backend?.service;
    const [service] = byKind(documents, 'Service');
    check(backend?.name === service?.metadata?.name, 'Ingress routes to the Service');
  }
  if (mode === 'no-worker') {
    check(workers.length === 0, 'no-worker: no worker Deployment');
    check(
      Number(configMap?.data?.ENGRAM_INPROCESS_WORKERS) > 0,
      'no-worker: the API runs the jobs',
    );
  }
  if (mode === 'monitoring') {
    const dashboards = byKind(documents, 'ConfigMap').filter(
      (map) => map.metadata.labels?.grafana_dashboard === '1',
    );
    check(dashboards.length === 1, 'monitoring: one dashboard ConfigMap for the Grafana sidecar');
    const json = dashboards[0]?.data?.['engram.json'];
    check(json && JSON.parse(json).uid === 'engram-overview', 'monitoring: the dashboard JSON');
    const [rule] = byKind(documents, 'PrometheusRule');
    check(
      rule?.spec?.groups?.[0]?.rules?.some((entry) => entry.alert === 'EngramHighErrorRate'),
      'monitoring: PrometheusRule with the alert rules',
    );
  }
  if (mode === 'existing-secret') {
    check(byKind(documents, 'Secret').length === 0, 'existing-secret: the chart makes no Secret');
    const refs = api?.spec.template.spec.containers[0].envFrom ?? [];
    check(
      refs.some((ref) => ref.secretRef?.name === 'engram-secrets'),
      'existing-secret: pods read the named Secret',
    );
  }
  return documents.length;
}

/** The dashboard against its schema, its layout, and the metrics it and the rules refer to. */
function checkMonitoring() {
  const dashboardFile = join(root, 'deploy/helm/engram/files/grafana-dashboard.json');
  const rulesFile = join(root, 'deploy/helm/engram/files/prometheus-rules.yaml');
  const dashboard = JSON.parse(readFileSync(dashboardFile, 'utf8'));
  const schema = JSON.parse(
    readFileSync(join(root, 'deploy/grafana/dashboard.schema.json'), 'utf8'),
  );
  const Ajv = createRequire(join(root, 'package.json'))('ajv');
  const validate = new (Ajv.default ?? Ajv)({ allErrors: true, strict: false }).compile(schema);
  check(
    validate(dashboard),
    `dashboard schema: ${(validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`).join('; ')}`,
  );
  const ids = dashboard.panels.map((panel) => panel.id);
  check(new Set(ids).size === ids.length, 'dashboard: panel ids are unique');
  for (const panel of dashboard.panels) {
    check(panel.gridPos.x + panel.gridPos.w <= 24, `dashboard: panel ${panel.id} fits 24 columns`);
  }
  // Every engram_* series must be one the server exports (histograms add _bucket/_count/_sum).
  const exported = new Set(
    [
      ...readFileSync(join(root, 'packages/server/src/metrics.ts'), 'utf8').matchAll(
        /name: '(engram_\w+)'/g,
      ),
    ].map((match) => match[1]),
  );
  const [rules] = parseFile(rulesFile);
  const expressions = [
    ...dashboard.panels.flatMap((panel) => panel.targets.map((target) => target.expr)),
    ...rules.groups.flatMap((group) => group.rules.map((rule) => rule.expr)),
  ];
  for (const expression of expressions) {
    for (const [name] of expression.matchAll(/\bengram_\w+/g)) {
      const base = name.replace(/_(bucket|count|sum)$/, '');
      check(
        exported.has(name) || exported.has(base),
        `metric ${name} is not exported by the server`,
      );
    }
  }
  check(
    rules.groups[0].rules.some((rule) => rule.alert === 'EngramSearchLatencyHigh'),
    'rules: latency alert',
  );
  return dashboard.panels.length;
}

const [command, ...args] = process.argv.slice(2);
let summary = '';
try {
  if (command === 'yaml') {
    checkYaml(args);
    summary = `${args.length} YAML files parse`;
  } else if (command === 'compose') {
    checkCompose(args[0]);
    summary = 'docker-compose.yml wiring';
  } else if (command === 'nginx') {
    checkNginx(args[0]);
    summary = 'nginx proxy configuration';
  } else if (command === 'dockerfile') {
    checkDockerfile(args[0]);
    summary = 'Dockerfile lint';
  } else if (command === 'providers') {
    summary = `model providers of the image (${checkProviders()} in the catalog)`;
  } else if (command === 'monitoring') {
    summary = `Grafana dashboard (${checkMonitoring()} panels) and alert rules`;
  } else if (command === 'rendered') {
    const count = checkRendered(args[0], args[1]);
    summary = `helm template (${args[0]}): ${count} manifests`;
  } else {
    console.error(
      'usage: check-manifests.mjs yaml|compose|dockerfile|providers|nginx|rendered|monitoring ...',
    );
    process.exit(2);
  }
} catch (error) {
  check(false, error.message);
}
console.log(`     ${summary}: ${passes} checks passed, ${failures} failed`);
process.exit(failures === 0 ? 0 : 1);
