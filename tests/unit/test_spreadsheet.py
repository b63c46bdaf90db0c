"""CSV cells that a spreadsheet could take for a formula are neutralised, and only those."""

import csv
import io

from infra.spreadsheet import csv_text, safe_cell
from services.web.pages.requests import as_csv


def test_a_cell_that_could_start_a_formula_gets_an_apostrophe() -> None:
    for dangerous in ("=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx", "'quoted"):
        assert safe_cell(dangerous) == "'" + dangerous
    for plain in ("Dinkes", "1-1", "a=b", " =1", "", "{}"):
        assert safe_cell(plain) == plain
    assert (safe_cell(None), safe_cell(-3), safe_cell(7)) == ("", "'-3", "7")


def test_every_cell_of_a_csv_is_safe_and_reads_back() -> None:
    text = csv_text(["=a", "b"], [["=cmd|' /C calc'!A0", 'x\n"y"'], [None, "@z"]])
    assert list(csv.reader(io.StringIO(text))) == [
        ["'=a", "b"],
        ["'=cmd|' /C calc'!A0", 'x\n"y"'],
        ["", "'@z"],
    ]


def test_the_web_apps_list_csv_is_safe() -> None:
    case = {
        "request_id": "r-1",
        "title": '=HYPERLINK("http://x.example","klik")',
        "opd": "-DINKES",
        "status": "OPEN",
        "step_number": 3,
        "current_step": "DISPOSE",
        "due_at": None,
        "overdue": False,
        "submitted_at": "2024-03-04T01:00:00+00:00",
    }
    [header, row] = list(csv.reader(io.StringIO(as_csv([case]))))
    assert header[:3] == ["Id", "Judul", "OPD"]
    assert row[1:3] == ["'" + case["title"], "'-DINKES"]
    assert row[7] == "tidak"
