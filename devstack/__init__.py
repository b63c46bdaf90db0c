"""The local stack: a real Apache Kafka broker and a real PostgreSQL on loopback, no Docker."""
