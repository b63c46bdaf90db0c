"""Event store errors; each carries what a caller needs to explain or retry."""


class ConcurrencyConflict(Exception):
    """The stream moved on since the caller read it: reload and decide again."""

    def __init__(self, stream_id: str, expected_version: int, actual_version: int) -> None:
        super().__init__(
            f"stream {stream_id!r} is at version {actual_version}, not {expected_version} "
            "as expected: it was changed concurrently"
        )
        self.stream_id = stream_id
        self.expected_version = expected_version
        self.actual_version = actual_version


class StreamOrderConflict(ConcurrencyConflict):
    """The transaction's id is older than the stream's last append, so followers reading in
    transaction order would see this stream out of order. Retry in a new transaction."""


class DuplicateEvent(Exception):
    """An event with this ``event_id`` is already stored."""

    def __init__(self, detail: str) -> None:
        super().__init__(f"event already stored: {detail}")
