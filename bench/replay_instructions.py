"""``python -m bench.replay_instructions [REQUESTS]``: the instructions the audit replay's
per-request work runs for each event (``bench.replay_cpu``'s parse, rebuild and rows), counted
by valgrind's cachegrind.

Timings on the 2-core VM move by 5–10% from run to run, so a change worth 1–3% of the replay's
CPU is lost in them, and the VM exposes no hardware counters. An instruction count repeats to
about 0.3%: run this in two checkouts to compare them. It is not a time (a cache miss costs more
than an instruction) and it leaves out Kafka, PostgreSQL and COPY.

The records of ``REQUESTS`` sample requests are written to a temporary file; the work then runs
twice under cachegrind, with one and with two passes over them, and the difference is one warm
pass. Needs ``valgrind`` (Debian's package); 200 requests take about half a minute.
"""

import gc
import pickle
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Annotated, Any

import typer

from bench import replay_cpu

app = typer.Typer(add_completion=False, pretty_exceptions_show_locals=False)
ROOT = Path(__file__).resolve().parents[1]
_TOTAL = re.compile(r"I\s+refs:\s+([\d,]+)")


def _passes(records_file: Path, passes: int) -> None:
    """``passes`` passes of the per-request work over the records in ``records_file``."""
    data: list[tuple[str, list[Any]]] = pickle.loads(records_file.read_bytes())
    gc.disable()  # as in the workers
    for _ in range(passes):
        replay_cpu.measure(data)


def _instructions(valgrind: str, records_file: Path, passes: int) -> int:
    run = subprocess.run(
        [
            *(valgrind, "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null"),
            *(sys.executable, "-m", "bench.replay_instructions"),
            *("--records", str(records_file), "--passes", str(passes)),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    found = _TOTAL.search(run.stderr)
    if found is None:
        raise RuntimeError(f"no instruction count in valgrind's output:\n{run.stderr[-2000:]}")
    return int(found.group(1).replace(",", ""))


@app.command()
def main(
    requests: Annotated[int, typer.Argument(min=1, help="Sample requests")] = 200,
    records: Annotated[Path | None, typer.Option(hidden=True)] = None,
    passes: Annotated[int, typer.Option(hidden=True)] = 1,
) -> None:
    """Instructions per event of the replay's per-request work."""
    if records is not None:  # the run under valgrind
        _passes(records, passes)
        return
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        raise typer.BadParameter("valgrind is not installed (apt install valgrind)")
    data = replay_cpu.records(requests)
    events = sum(len(rs) for _, rs in data)
    with tempfile.TemporaryDirectory() as tmp:
        records_file = Path(tmp) / "records.pickle"
        records_file.write_bytes(pickle.dumps(data))
        with ThreadPoolExecutor(2) as pool:  # one run per core
            one, two = pool.map(lambda n: _instructions(valgrind, records_file, n), (1, 2))
    print(f"{events} events of {requests} requests: {(two - one) / events:,.0f} instructions/event")


if __name__ == "__main__":
    app()
