from infra.redelivery import RedeliveryPause


def test_the_pause_doubles_from_the_first_up_to_the_longest() -> None:
    pause = RedeliveryPause(first=0.5, longest=10.0)
    seen = []
    for failures in range(1, 8):
        pause.failures = failures
        seen.append(pause.next_pause())
    assert seen == [0.5, 1.0, 2.0, 4.0, 8.0, 10.0, 10.0]
    pause.failures = 100_000  # a week-long outage: still the longest, no overflow
    assert pause.next_pause() == 10.0


async def test_a_success_starts_the_next_failure_afresh(
    redelivery_logs: list[dict[str, object]],
) -> None:
    pause = RedeliveryPause(first=0.001, longest=0.004)
    for _ in range(3):
        await pause.after_failure("down", error="OSError")
    pause.after_success()
    pause.after_success()  # nothing more to say
    await pause.after_failure("down again")
    assert [(e["event"], e.get("pause_seconds")) for e in redelivery_logs] == [
        ("down", 0.001),
        ("down", 0.002),
        ("down", 0.004),
        ("transient failures over", None),
        ("down again", 0.001),
    ]
    assert pause.failures == 1
