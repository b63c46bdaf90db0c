"""The Jejak benchmark (``python -m bench``): appends through our ``PostgresEventStore`` and
through the ``eventsourcing`` library's PostgreSQL application recorder on the same server, with
1 and 8 writers, then the outbox relay's throughput from the events table to Kafka.

It is a benchmark, not a test: it prints figures, it asserts nothing but their plausibility.
"""
