"""Fault injection: users walk requests through the whole SOP via the gateway while a killer
SIGKILLs each service, Kafka and PostgreSQL in turn and a supervisor restarts them; then every
request, topic, hash chain and read model is checked (``python -m bench.chaos``, ``make chaos``;
the short form is ``tests/chaos/test_short.py``)."""
