{{/* Name of the chart, or nameOverride. */}}
{{- define "engram.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full name: release and chart name, or fullnameOverride (at most 63 characters). */}}
{{- define "engram.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "engram.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels of every object. */}}
{{- define "engram.labels" -}}
helm.sh/chart: {{ include "engram.chart" . }}
{{ include "engram.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* Labels that select the release's pods (a component label is added per Deployment). */}}
{{- define "engram.selectorLabels" -}}
app.kubernetes.io/name: {{ include "engram.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "engram.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "engram.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "engram.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}

{{/* Name of the Secret the pods read: the chart's, or secrets.existingSecret. */}}
{{- define "engram.secretName" -}}
{{- if .Values.secrets.existingSecret }}
{{- .Values.secrets.existingSecret }}
{{- else }}
{{- include "engram.fullname" . }}
{{- end }}
{{- end }}

{{- define "engram.dataClaimName" -}}
{{- if .Values.persistence.existingClaim }}
{{- .Values.persistence.existingClaim }}
{{- else }}
{{- printf "%s-data" (include "engram.fullname" .) }}
{{- end }}
{{- end }}

{{/* Settings that cannot work, stopped at render time with what to change. */}}
{{- define "engram.validate" -}}
{{- if .Values.autoscaling.enabled }}
{{- if lt (int .Values.autoscaling.minReplicas) 1 }}
{{- fail "autoscaling.minReplicas must be at least 1" }}
{{- end }}
{{- if lt (int .Values.autoscaling.maxReplicas) (int .Values.autoscaling.minReplicas) }}
{{- fail "autoscaling.maxReplicas must be at least autoscaling.minReplicas" }}
{{- end }}
{{- $cpu := int .Values.autoscaling.targetCPUUtilizationPercentage }}
{{- if or (lt $cpu 1) (gt $cpu 100) }}
{{- fail "autoscaling.targetCPUUtilizationPercentage must be from 1 to 100" }}
{{- end }}
{{- end }}
{{- $apiReplicas := ternary .Values.autoscaling.minReplicas .Values.api.replicaCount .Values.autoscaling.enabled }}
{{- $budgets := list (list "api" .Values.api.podDisruptionBudget $apiReplicas true) (list "worker" .Values.worker.podDisruptionBudget .Values.worker.replicaCount .Values.worker.enabled) }}
{{- range $budgets }}
{{- $name := index . 0 }}{{- $budget := index . 1 }}{{- $replicas := int (index . 2) }}
{{- if and (index . 3) $budget.enabled (ge $replicas 2) (not (kindIs "string" $budget.minAvailable)) (ge (int $budget.minAvailable) $replicas) }}
{{- fail (printf "%s.podDisruptionBudget.minAvailable (%d) must be below the %s replicas (%d), or node drains never finish; lower it or add replicas" $name (int $budget.minAvailable) $name $replicas) }}
{{- end }}
{{- end }}
{{- if and .Values.postgres.enabled (not .Values.secrets.existingSecret) (not .Values.secrets.postgresPassword) }}
{{- fail "postgres.enabled needs secrets.postgresPassword (or POSTGRES_PASSWORD and PGVECTOR_URL in secrets.existingSecret)" }}
{{- end }}
{{- if and .Values.neo4j.enabled (not .Values.secrets.existingSecret) (not .Values.secrets.neo4jPassword) }}
{{- fail "neo4j.enabled needs secrets.neo4jPassword (or NEO4J_PASSWORD in secrets.existingSecret)" }}
{{- end }}
{{- if and .Values.postgres.enabled .Values.qdrant.enabled }}
{{- fail "postgres.enabled and qdrant.enabled both provide the vector store: turn one off" }}
{{- end }}
{{- if and .Values.secrets.bootstrapKey (lt (len .Values.secrets.bootstrapKey) 32) }}
{{- fail "secrets.bootstrapKey must be at least 32 characters (openssl rand -hex 32)" }}
{{- end }}
{{- if and .Values.persistence.enabled (not .Values.persistence.existingClaim) (not .Values.persistence.accessModes) }}
{{- fail "persistence.accessModes must list at least one mode (ReadWriteMany for several pods)" }}
{{- end }}
{{- end }}

{{/* What is missing for the pods to become ready, as lines for NOTES.txt. */}}
{{- define "engram.warnings" -}}
{{- $secret := .Values.secrets }}
{{- if and (ne .Values.config.vectorStore "sqlite") (not $secret.existingSecret) (not $secret.databaseUrl) (not (hasKey $secret.extra "DATABASE_URL")) (not .Values.postgres.enabled) (not .Values.qdrant.enabled) }}
- config.vectorStore={{ .Values.config.vectorStore }} but no secrets.databaseUrl: the API stays unready until the store is reachable.
{{- end }}
{{- if and .Values.worker.enabled (not $secret.existingSecret) (not $secret.redisUrl) }}
- worker.enabled but no secrets.redisUrl: `engram worker` needs Redis (or set worker.enabled=false).
{{- end }}
{{- if and (eq .Values.config.graph "neo4j") (not .Values.config.neo4j.url) (not .Values.neo4j.enabled) }}
- config.graph=neo4j but no config.neo4j.url (default bolt://127.0.0.1:7687 inside the pod).
{{- end }}
{{- $replicas := ternary .Values.autoscaling.minReplicas .Values.api.replicaCount .Values.autoscaling.enabled }}
{{- if and (not .Values.persistence.enabled) (or (gt (int $replicas) 1) .Values.worker.enabled) (not $secret.bootstrapKey) (not $secret.existingSecret) }}
- persistence.enabled=false: every pod has its own data directory, so API keys created in one pod are unknown to the others; set secrets.bootstrapKey (ENGRAM_BOOTSTRAP_KEY from the Secret).
{{- end }}
{{- if and .Values.postgres.enabled (ne .Values.config.vectorStore "pgvector") }}
- postgres.enabled but config.vectorStore={{ .Values.config.vectorStore }}: the API uses the chart's PostgreSQL only with config.vectorStore=pgvector.
{{- end }}
{{- if and .Values.qdrant.enabled (ne .Values.config.vectorStore "qdrant") }}
- qdrant.enabled but config.vectorStore={{ .Values.config.vectorStore }}: set config.vectorStore=qdrant.
{{- end }}
{{- if and .Values.neo4j.enabled (ne .Values.config.graph "neo4j") }}
- neo4j.enabled but config.graph is not neo4j: set config.graph=neo4j for graph memory.
{{- end }}
{{- if and (eq .Values.config.vectorStore "sqlite") (or (gt (int $replicas) 1) .Values.worker.enabled) }}
- config.vectorStore=sqlite with several pods: SQLite files on a shared volume; prefer a networked store (pgvector).
{{- end }}
{{- end }}

{{/* Volumes shared by the API and the workers: the data directory and a writable /tmp. */}}
{{- define "engram.volumes" -}}
- name: data
{{- if .Values.persistence.enabled }}
  persistentVolumeClaim:
    claimName: {{ include "engram.dataClaimName" . }}
{{- else }}
  emptyDir: {}
{{- end }}
- name: tmp
  emptyDir: {}
{{- end }}

{{- define "engram.volumeMounts" -}}
- name: data
  mountPath: /var/lib/engram
- name: tmp
  mountPath: /tmp
{{- end }}

{{/* Environment of the API and the workers: the ConfigMap and the Secret. */}}
{{- define "engram.envFrom" -}}
- configMapRef:
    name: {{ include "engram.fullname" . }}
- secretRef:
    name: {{ include "engram.secretName" . }}
{{- end }}

{{/* Pod annotations that restart pods when the configuration changes. */}}
{{- define "engram.configChecksums" -}}
checksum/config: {{ include (print $.Template.BasePath "/configmap.yaml") . | sha256sum }}
{{- if not .Values.secrets.existingSecret }}
checksum/secret: {{ include (print $.Template.BasePath "/secret.yaml") . | sha256sum }}
{{- end }}
{{- end }}
