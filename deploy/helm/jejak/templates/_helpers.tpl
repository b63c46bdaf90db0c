{{/*
What the chart knows of each service (not settings: facts of the code). `consumes` is
events/topics.py's SUBSCRIPTIONS; `database`/`kafka` say whether it has a schema and a topic;
`secrets` the keys it reads; `calls` the services it calls over HTTP.
*/}}
{{- define "jejak.catalog" -}}
identity:
  database: true
  kafka: true
  consumes: []
  secrets: [jwtPrivate]
intake:
  database: true
  kafka: true
  consumes: [approval]
  secrets: [eoffice]
approval:
  database: true
  kafka: true
  consumes: [intake, identity, dev_tracking]
  secrets: [eoffice]
dev_tracking:
  database: true
  kafka: true
  consumes: [approval]
  secrets: []
reporting:
  database: true
  kafka: true
  consumes: [identity, intake, approval, dev_tracking, reporting]
  secrets: []
eoffice:
  database: true
  kafka: true
  consumes: [reporting]
  secrets: [eoffice]
documents:
  database: true
  kafka: true
  consumes: [identity, intake, approval, dev_tracking]
  secrets: [documentsSigning]
web:
  database: false
  kafka: false
  consumes: []
  secrets: [web]
  calls: [identity, intake, approval, dev_tracking, reporting, eoffice, documents]
{{- end -}}

{{- define "jejak.fullname" -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- end -}}

{{/* A Kubernetes name for a service: dev_tracking -> <release>-dev-tracking */}}
{{- define "jejak.serviceName" -}}
{{- printf "%s-%s" (include "jejak.fullname" .root) (.service | replace "_" "-") -}}
{{- end -}}

{{- define "jejak.labels" -}}
app.kubernetes.io/name: jejak
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "jejak.selector" -}}
app.kubernetes.io/name: jejak
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .service | replace "_" "-" }}
{{- end -}}

{{- define "jejak.image" -}}
{{- $tag := .Values.image.tag | default .Chart.AppVersion -}}
{{- if .Values.image.digest -}}
{{ .Values.image.repository }}@{{ .Values.image.digest }}
{{- else -}}
{{ .Values.image.repository }}:{{ $tag }}
{{- end -}}
{{- end -}}

{{- define "jejak.kafkaName" -}}{{ include "jejak.fullname" . }}{{- end -}}
{{- define "jejak.pgName" -}}{{ include "jejak.fullname" . }}-pg{{- end -}}
{{- define "jejak.poolerName" -}}{{ include "jejak.fullname" . }}-pg-pooler{{- end -}}

{{- define "jejak.kafkaBootstrap" -}}
{{- if not .Values.kafka.enabled -}}
{{ required "kafka.bootstrapServers is required when kafka.enabled is false" .Values.kafka.bootstrapServers }}
{{- else -}}
{{ include "jejak.kafkaName" . }}-kafka-bootstrap:9093
{{- end -}}
{{- end -}}

{{/* The Secret holding the brokers' CA (`ca.crt`): Strimzi's cluster CA, or `kafka.caSecret`
for an existing Kafka (empty: that Kafka's listener is not TLS). */}}
{{- define "jejak.kafkaCaSecret" -}}
{{- if .Values.kafka.enabled -}}
{{ include "jejak.kafkaName" . }}-cluster-ca-cert
{{- else -}}
{{ .Values.kafka.caSecret }}
{{- end -}}
{{- end -}}

{{/* Where the services connect (the pooler) and where the migrations do (the primary). */}}
{{- define "jejak.pgAppHost" -}}
{{- if .Values.postgres.enabled -}}{{ include "jejak.poolerName" . }}{{- else -}}{{ required "postgres.host is required when postgres.enabled is false" .Values.postgres.host }}{{- end -}}
{{- end -}}
{{- define "jejak.pgOwnerHost" -}}
{{- if .Values.postgres.enabled -}}{{ include "jejak.pgName" . }}-rw{{- else -}}{{ .Values.postgres.host }}{{- end -}}
{{- end -}}

{{/* The security context every Jejak container runs with. */}}
{{- define "jejak.podSecurity" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
fsGroup: 10001
seccompProfile: {type: RuntimeDefault}
{{- end -}}
{{- define "jejak.containerSecurity" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
runAsUser: 10001
privileged: false
capabilities: {drop: [ALL]}
seccompProfile: {type: RuntimeDefault}
{{- end -}}

{{/* An env entry from a Secret's key. */}}
{{- define "jejak.secretEnv" -}}
- name: {{ .name }}
  valueFrom: {secretKeyRef: {name: {{ .secret }}, key: {{ .key }}}}
{{- end -}}

{{/* The web app's UPSTREAMS: each service it calls, by its Service's in-cluster URL. */}}
{{- define "jejak.upstreams" -}}
{{- $urls := dict -}}
{{- range .calls -}}
{{- $_ := set $urls . (printf "http://%s:%v" (include "jejak.serviceName" (dict "root" $.root "service" .)) $.root.Values.port) -}}
{{- end -}}
{{- toJson $urls -}}
{{- end -}}
