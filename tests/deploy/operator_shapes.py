"""The fields of Strimzi's, CloudNativePG's and the Prometheus Operator's resources that the chart
uses, as JSON Schemas written from their API references (Strimzi ``kafka.strimzi.io/v1beta2``,
CloudNativePG ``postgresql.cnpg.io/v1``, ``monitoring.coreos.com/v1``): no registry package ships
their CRDs. Each object admits only the
fields listed (a misspelt or misplaced field fails), with the operators' enums and patterns."""

from typing import Any

Schema = dict[str, Any]

DNS_LABEL = {"type": "string", "pattern": r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", "maxLength": 63}
STRING_MAP = {"type": "object", "additionalProperties": {"type": "string"}}
QUANTITY = {"type": "string", "pattern": r"^[0-9]+(\.[0-9]+)?(m|Ki|Mi|Gi|Ti|k|M|G|T)?$"}
RESOURCES = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        k: {
            "type": "object",
            "additionalProperties": False,
            "properties": {"cpu": QUANTITY, "memory": QUANTITY},
        }
        for k in ("requests", "limits")
    },
}


def closed(required: list[str], **properties: Any) -> Schema:
    """An object with exactly these fields allowed and ``required`` present."""
    return {
        "type": "object",
        "additionalProperties": False,
        "required": required,
        "properties": properties,
    }


def resource(kind: str, api_version: str, spec: Schema, cluster_label: bool = False) -> Schema:
    metadata = closed(
        ["name", "namespace", "labels"],
        name=DNS_LABEL,
        namespace=DNS_LABEL,
        labels={
            "type": "object",
            "additionalProperties": {"type": "string"},
            **({"required": ["strimzi.io/cluster"]} if cluster_label else {}),
        },
        annotations=STRING_MAP,
    )
    return closed(
        ["apiVersion", "kind", "metadata", "spec"],
        apiVersion={"const": api_version},
        kind={"const": kind},
        metadata=metadata,
        spec=spec,
    )


SECRET_KEY_REF = closed(["name", "key"], name=DNS_LABEL, key={"type": "string"})
KAFKA_CONFIG_VALUE = {"type": ["string", "integer", "boolean"]}

STRIMZI = "kafka.strimzi.io/v1beta2"
FORBIDDEN_BROKER_CONFIG = (
    r"^(?!(listeners|advertised\.|broker\.|listener\.|host\.name|port|inter\.broker\.listener"
    r"\.name|sasl\.|ssl\.|security\.|password\.|log\.dir|zookeeper\.|authorizer\.|super\.user"
    r"|cruise\.control\.metrics\.|node\.id|process\.roles|controller\.|metadata\.log\.dir)).+$"
)
"""Broker options Strimzi sets itself and refuses in ``spec.kafka.config``."""

LISTENER = closed(
    ["name", "port", "type", "tls"],
    name={"type": "string", "pattern": r"^[a-z0-9]{1,11}$"},
    port={"type": "integer", "minimum": 9092, "not": {"enum": [9404, 9999]}},
    type={"enum": ["internal", "route", "loadbalancer", "nodeport", "ingress", "cluster-ip"]},
    tls={"type": "boolean"},
    authentication=closed(["type"], type={"enum": ["tls", "scram-sha-512", "oauth", "custom"]}),
    networkPolicyPeers={
        "type": "array",
        "items": closed(
            [],
            podSelector=closed(
                ["matchLabels"],
                matchLabels=STRING_MAP,
            ),
        ),
    },
)

KAFKA = resource(
    "Kafka",
    STRIMZI,
    closed(
        ["kafka", "entityOperator"],
        kafka=closed(
            ["version", "listeners"],
            version={"type": "string", "pattern": r"^[0-9]+\.[0-9]+\.[0-9]+$"},
            listeners={"type": "array", "minItems": 1, "items": LISTENER},
            authorization=closed(["type"], type={"enum": ["simple", "opa", "keycloak", "custom"]}),
            config={
                "type": "object",
                "propertyNames": {"pattern": FORBIDDEN_BROKER_CONFIG},
                "additionalProperties": KAFKA_CONFIG_VALUE,
            },
            template=closed(
                [],
                pod=closed(
                    [],
                    topologySpreadConstraints={"type": "array"},
                ),
            ),
        ),
        entityOperator=closed(
            ["topicOperator", "userOperator"],
            topicOperator={"type": "object"},
            userOperator={"type": "object"},
        ),
        kafkaExporter=closed([], topicRegex={"type": "string"}, groupRegex={"type": "string"}),
    ),
)

KAFKA_NODE_POOL = resource(
    "KafkaNodePool",
    STRIMZI,
    closed(
        ["replicas", "roles", "storage"],
        replicas={"type": "integer", "minimum": 1},
        roles={
            "type": "array",
            "items": {"enum": ["controller", "broker"]},
            "minItems": 1,
            "uniqueItems": True,
        },
        storage=closed(
            ["type", "volumes"],
            type={"const": "jbod"},
            volumes={
                "type": "array",
                "minItems": 1,
                "items": closed(
                    ["id", "type", "size"],
                    id={"type": "integer", "minimum": 0},
                    type={"enum": ["persistent-claim", "ephemeral"]},
                    size=QUANTITY,
                    **{"class": {"type": "string"}},
                    deleteClaim={"type": "boolean"},
                    kraftMetadata={"const": "shared"},
                ),
            },
        ),
        resources=RESOURCES,
    ),
    cluster_label=True,
)

KAFKA_TOPIC = resource(
    "KafkaTopic",
    STRIMZI,
    closed(
        ["topicName", "partitions", "replicas", "config"],
        topicName={"type": "string", "pattern": r"^[a-zA-Z0-9._-]{1,249}$"},
        partitions={"type": "integer", "minimum": 1},
        replicas={"type": "integer", "minimum": 1, "maximum": 32767},
        config={"type": "object", "additionalProperties": KAFKA_CONFIG_VALUE},
    ),
    cluster_label=True,
)

ACL_OPERATIONS = [
    "Read",
    "Write",
    "Create",
    "Delete",
    "Alter",
    "Describe",
    "ClusterAction",
    "AlterConfigs",
    "DescribeConfigs",
    "IdempotentWrite",
    "All",
]

KAFKA_USER = resource(
    "KafkaUser",
    STRIMZI,
    closed(
        ["authentication", "authorization"],
        authentication=closed(["type"], type={"enum": ["tls", "tls-external", "scram-sha-512"]}),
        authorization=closed(
            ["type", "acls"],
            type={"const": "simple"},
            acls={
                "type": "array",
                "items": closed(
                    ["resource", "operations"],
                    resource=closed(
                        ["type"],
                        type={"enum": ["topic", "group", "cluster", "transactionalId"]},
                        name={"type": "string"},
                        patternType={"enum": ["literal", "prefix"]},
                    ),
                    operations={
                        "type": "array",
                        "items": {"enum": ACL_OPERATIONS},
                        "minItems": 1,
                    },
                    host={"type": "string"},
                    type={"enum": ["allow", "deny"]},
                ),
            },
        ),
    ),
    cluster_label=True,
)

CNPG = "postgresql.cnpg.io/v1"
LOCAL_REF = closed(["name"], name=DNS_LABEL)

CLUSTER = resource(
    "Cluster",
    CNPG,
    closed(
        ["instances", "storage", "bootstrap"],
        instances={"type": "integer", "minimum": 1},
        imageName={"type": "string"},
        primaryUpdateStrategy={"enum": ["unsupervised", "supervised"]},
        enableSuperuserAccess={"type": "boolean"},
        postgresql=closed(
            [],
            synchronous=closed(
                ["method", "number"],
                method={"enum": ["any", "first"]},
                number={"type": "integer", "minimum": 1},
                dataDurability={"enum": ["required", "preferred"]},
            ),
            parameters=STRING_MAP,
        ),
        bootstrap=closed(
            ["initdb"],
            initdb=closed(
                ["database", "owner", "secret"],
                database={"type": "string"},
                owner={"type": "string"},
                secret=LOCAL_REF,
            ),
        ),
        managed=closed(
            [],
            roles={
                "type": "array",
                "items": closed(
                    ["name"],
                    name={"type": "string"},
                    ensure={"enum": ["present", "absent"]},
                    login={"type": "boolean"},
                    createrole={"type": "boolean"},
                    passwordSecret=LOCAL_REF,
                ),
            },
        ),
        storage=closed(["size"], size=QUANTITY, storageClass={"type": "string"}),
        resources=RESOURCES,
        affinity=closed(
            [],
            enablePodAntiAffinity={"type": "boolean"},
            topologyKey={"type": "string"},
            podAntiAffinityType={"enum": ["preferred", "required"]},
        ),
        backup=closed(
            ["barmanObjectStore"],
            retentionPolicy={"type": "string", "pattern": r"^[1-9][0-9]*[dwm]$"},
            barmanObjectStore=closed(
                ["destinationPath", "s3Credentials"],
                destinationPath={"type": "string", "minLength": 1},
                endpointURL={"type": "string"},
                s3Credentials=closed(
                    ["accessKeyId", "secretAccessKey"],
                    accessKeyId=SECRET_KEY_REF,
                    secretAccessKey=SECRET_KEY_REF,
                ),
                wal=closed([], compression={"enum": ["gzip", "bzip2", "snappy"]}),
                data=closed([], compression={"enum": ["gzip", "bzip2", "snappy"]}),
            ),
        ),
    ),
)

POOLER = resource(
    "Pooler",
    CNPG,
    closed(
        ["cluster", "pgbouncer"],
        cluster=LOCAL_REF,
        instances={"type": "integer", "minimum": 0},
        type={"enum": ["rw", "ro", "r"]},
        pgbouncer=closed(
            ["poolMode"],
            poolMode={"enum": ["session", "transaction"]},
            parameters=STRING_MAP,
        ),
    ),
)

SCHEDULED_BACKUP = resource(
    "ScheduledBackup",
    CNPG,
    closed(
        ["schedule", "cluster"],
        schedule={"type": "string", "pattern": r"^\S+( \S+){5}$"},
        backupOwnerReference={"enum": ["none", "self", "cluster"]},
        method={"enum": ["barmanObjectStore", "volumeSnapshot", "plugin"]},
        cluster=LOCAL_REF,
    ),
)

MONITORING = "monitoring.coreos.com/v1"
DURATION = {"type": "string", "pattern": r"^([0-9]+(ms|s|m|h|d|w|y))+$"}

SERVICE_MONITOR = resource(
    "ServiceMonitor",
    MONITORING,
    closed(
        ["selector", "endpoints"],
        selector=closed(["matchLabels"], matchLabels=STRING_MAP),
        namespaceSelector=closed(["matchNames"], matchNames={"type": "array"}),
        endpoints={
            "type": "array",
            "minItems": 1,
            "items": closed(
                ["port"], port={"type": "string"}, path={"type": "string"}, interval=DURATION
            ),
        },
    ),
)

PROMETHEUS_RULE = resource(
    "PrometheusRule",
    MONITORING,
    closed(
        ["groups"],
        groups={
            "type": "array",
            "items": closed(
                ["name", "rules"],
                name={"type": "string"},
                rules={
                    "type": "array",
                    "items": closed(
                        ["alert", "expr"],
                        alert={"type": "string", "pattern": r"^[A-Za-z_][A-Za-z0-9_]*$"},
                        expr={"type": "string", "minLength": 1},
                        labels=STRING_MAP,
                        annotations=STRING_MAP,
                        **{"for": DURATION},
                    ),
                },
            ),
        },
    ),
)

SHAPES: dict[str, Schema] = {
    s["properties"]["kind"]["const"]: s
    for s in (
        KAFKA,
        KAFKA_NODE_POOL,
        KAFKA_TOPIC,
        KAFKA_USER,
        CLUSTER,
        POOLER,
        SCHEDULED_BACKUP,
        SERVICE_MONITOR,
        PROMETHEUS_RULE,
    )
}
"""Every custom resource kind the chart renders, by kind."""
