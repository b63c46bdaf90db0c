"""The SOP "Pembangunan Aplikasi" (Diskominfostandi Katingan, 2023) as data: its 14 steps.

The SOP numbers two steps "11" (integration testing and the manual book); the project numbers the
steps 1 to 14 in order and keeps the SOP's own number in ``sop_number`` for display.

Standard times are **working** time. ``standard_minutes`` counts office minutes, one working day
being 8 hours = 480 minutes, so that the SLA code can lay them over the office calendar (Monday to
Friday, minus holidays and cuti bersama). Where the SOP gives a range (2-3 hours, 30-45 days) the
upper bound is the standard. ``standard_time`` is the same amount as a ``timedelta``; it is a
length of working time, never a calendar span: 3 working days is ``timedelta(hours=24)``.

Labels are the SOP's text with the scan's garbles corrected ("Menetirna" -> "Menerima", "menetikan"
-> "Menerbitkan"). Who does which step follows the project's reading of the SOP
(``sop/SOP-in-English.md``; the flowchart marks did not survive the scan).

``actor_role`` is the one role responsible for the step, the one an SLA breach is charged to;
``participant_roles`` lists every role the SOP has take part. ``supervisor_role`` is the role
notified besides the actor when the step overruns: KABID_TI supervises the team and
follows up requesters on behalf of the IT division, KADIS supervises KABID_TI, and KADIS's own
superior (the regent's secretariat) is outside the system, hence ``None``.

The step machine is data here too: ``entered_by`` and ``left_by`` name the events (a test result
with its kind, ``TestPassed:SYSTEM``) that bring a request to a step and take it away;
``paused_by`` / ``resumed_by`` those that stop and restart its clock while it waits on the
requester; ``test_kind`` the test done at each test step, so that the steps' order is the SOP's
test order (``TEST_ORDER``); ``once_per_request`` a step a later round passes by once its output
exists (the manual book, after a rejected UAT); ``rework_step`` / ``retest`` where a rejection
sends the request back and which test is due again. ``events.sop`` moves a request along this
table, and every reader of the step machine (the services' folds, reporting's case file and SLA,
the web app) goes through it. A regency with another SOP changes this table, and the tests of
``events.sop`` check that the moves still agree with it.
"""

from datetime import timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from events.dev_tracking import TestKind

StepCode = Literal[
    "SUBMIT",
    "RECEIVE",
    "DISPOSE",
    "VERIFY",
    "MEETING",
    "SIGN_MINUTES",
    "ASSIGN",
    "DEVELOP",
    "SYSTEM_TEST",
    "UNIT_TEST",
    "INTEGRATION_TEST",
    "MANUAL",
    "UAT",
    "DONE",
]
"""The project's code for each step, in SOP order."""

StepRole = Literal["PEMOHON", "KADIS", "KABID_TI", "TIM_PENGEMBANG"]
"""The four SOP actors (the "Pelaksana" columns)."""

StepService = Literal["intake", "approval", "dev_tracking"]
"""The services whose commands perform the steps."""

Trigger = str
"""An event type that moves a request, e.g. ``Disposed``; a test result with the kind of test,
``TestPassed:SYSTEM``."""

MINUTES_PER_WORKING_DAY = 480
"""One working day of office time: 8 hours."""

_HOUR = 60
_DAY = MINUTES_PER_WORKING_DAY


class Step(BaseModel):
    """One step of the SOP with its quality standard (Mutu Baku)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    number: int = Field(ge=1, le=14, description="The project's step number, 1 to 14 in order")
    code: StepCode = Field(description="Stable English code of the step, used in states and events")
    sop_number: str = Field(
        min_length=1, description='The SOP\'s own number; "11" appears twice in the SOP'
    )
    label_id: str = Field(min_length=1, description="The SOP's activity label (Indonesian)")
    label_en: str = Field(min_length=1, description="The activity in English")
    actor_role: StepRole | None = Field(
        description="The role responsible for the step; None for DONE"
    )
    participant_roles: tuple[StepRole, ...] = Field(
        description="Every role that takes part, the responsible one first; empty for DONE"
    )
    supervisor_role: StepRole | None = Field(
        description="Role notified besides the actor when the step overruns; None if outside"
    )
    inputs: tuple[str, ...] = Field(description="The SOP's required inputs (Perlengkapan)")
    standard_minutes: int = Field(
        ge=0, description="Standard time in working minutes (1 day = 480); 0 for DONE"
    )
    standard_time_label: str = Field(
        description='The SOP\'s standard time as written, e.g. "± 3 hari"; empty for DONE'
    )
    output_document: str = Field(
        description="The SOP's output (Indonesian document name); empty for DONE"
    )
    name_id: str = Field(min_length=1, description="A short Indonesian name, for lists and forms")
    service: StepService = Field(description="The service whose commands perform the step")
    entered_by: tuple[Trigger, ...] = Field(description="The events that bring a request here")
    left_by: tuple[Trigger, ...] = Field(description="The events that take a request away")
    paused_by: tuple[Trigger, ...] = Field(
        default=(), description="Events that stop the step's clock: it waits on the requester"
    )
    resumed_by: tuple[Trigger, ...] = Field(
        default=(), description="Events that restart the clock ``paused_by`` stopped"
    )
    test_kind: TestKind | None = Field(default=None, description="The test done at this step")
    once_per_request: bool = Field(
        default=False,
        description="A later round (after a rejected UAT) skips the step once its output exists",
    )
    rework_step: StepCode | None = Field(
        default=None, description="Where a rejection at this step sends the request back"
    )
    retest: TestKind | None = Field(
        default=None, description="The test due again after a rejection at this step"
    )

    @property
    def standard_time(self) -> timedelta:
        """The standard time as a length of *working* time (not a calendar span)."""
        return timedelta(minutes=self.standard_minutes)

    @property
    def has_standard_time(self) -> bool:
        """True for every step the SLA measures, i.e. all but DONE."""
        return self.standard_minutes > 0


_TEAM: tuple[StepRole, ...] = ("TIM_PENGEMBANG",)
_TEST_INPUTS = ("Dokumen Proses Bisnis", "Aplikasi")
_REVIEW_INPUTS = ("Hasil kajian", "Komputer/Laptop", "Internet")

STEPS: tuple[Step, ...] = (
    Step(
        number=1,
        code="SUBMIT",
        sop_number="1",
        label_id=(
            "Membuat permohonan pembangunan aplikasi dan melampirkan formulir Analisis Kebutuhan "
            "dan Spesifikasi Aplikasi serta dokumen proses bisnis Sistem/Aplikasi"
        ),
        label_en=(
            "Submit the application-development request with the needs-analysis form and the "
            "business-process document"
        ),
        actor_role="PEMOHON",
        participant_roles=("PEMOHON",),
        supervisor_role="KABID_TI",
        inputs=(
            "Peraturan Perundangan terkait",
            "Tupoksi PD terkait",
            "Peta Proses Bisnis Kabupaten Katingan",
        ),
        standard_minutes=3 * _DAY,
        standard_time_label="± 3 hari",
        output_document=(
            "Surat Permohonan, Formulir Analisis Kebutuhan dan Spesifikasi Aplikasi, "
            "Dokumen Proses Bisnis"
        ),
        name_id="Pengajuan",
        service="intake",
        entered_by=(),
        left_by=("RequestSubmitted",),
    ),
    Step(
        number=2,
        code="RECEIVE",
        sop_number="2",
        label_id=(
            "Menerima permohonan pembangunan aplikasi, proses bisnis layanan dan isian formulir "
            "Analisis Kebutuhan dan Spesifikasi Aplikasi"
        ),
        label_en="Receive the request, the business process and the filled form",
        actor_role="KADIS",
        participant_roles=("KADIS",),
        supervisor_role=None,
        inputs=("Surat Permohonan",),
        standard_minutes=5,
        standard_time_label="5 menit",
        output_document="Surat Permohonan beserta dokumen kelengkapannya",
        name_id="Penerimaan",
        service="intake",
        entered_by=("RequestSubmitted",),
        left_by=("RequestReceived",),
    ),
    Step(
        number=3,
        code="DISPOSE",
        sop_number="3",
        label_id="Membaca surat/permintaan dan mendisposisi kepada Kepala Bidang TIK",
        label_en="Read the letter and disposition it to the Head of the IT Division",
        actor_role="KADIS",
        participant_roles=("KADIS",),
        supervisor_role=None,
        inputs=("Surat Permohonan",),
        standard_minutes=5,
        standard_time_label="5 menit",
        output_document="Disposisi",
        name_id="Disposisi",
        service="approval",
        entered_by=("RequestReceived",),
        left_by=("Disposed",),
    ),
    Step(
        number=4,
        code="VERIFY",
        sop_number="4",
        label_id="Membaca disposisi dan memeriksa kelengkapan dokumen",
        label_en="Read the disposition and check that the documents are complete",
        actor_role="KABID_TI",
        participant_roles=("KABID_TI",),
        supervisor_role="KADIS",
        inputs=("Disposisi",),
        standard_minutes=15,
        standard_time_label="15 menit",
        output_document="Disposisi",
        name_id="Pemeriksaan Kelengkapan",
        service="approval",
        entered_by=("Disposed",),
        left_by=("DocumentsVerified",),
        paused_by=("RequestReturned",),
        resumed_by=("RequestRevised",),
    ),
    Step(
        number=5,
        code="MEETING",
        sop_number="5",
        label_id="Rapat terkait Aplikasi yang akan dibangun",
        label_en="Meeting about the application to be built",
        actor_role="KABID_TI",
        participant_roles=("KABID_TI", "PEMOHON", "TIM_PENGEMBANG"),
        supervisor_role="KADIS",
        inputs=("Disposisi", "Surat Permohonan dan kelengkapannya"),
        standard_minutes=3 * _HOUR,
        standard_time_label="2-3 jam",
        output_document="Draft Berita Acara",
        name_id="Rapat",
        service="approval",
        entered_by=("DocumentsVerified",),
        left_by=("MeetingHeld",),
    ),
    Step(
        number=6,
        code="SIGN_MINUTES",
        sop_number="6",
        label_id=(
            "Penandatanganan Berita Acara yang telah memuat lingkup serta timeline yang akan "
            "digunakan dalam masa pembangunan aplikasi"
        ),
        label_en="Sign the minutes stating the scope and timeline of the development",
        actor_role="KABID_TI",
        participant_roles=("KABID_TI", "KADIS", "PEMOHON"),
        supervisor_role="KADIS",
        inputs=("Draft Berita Acara",),
        standard_minutes=5,
        standard_time_label="5 menit",
        output_document="Berita Acara",
        name_id="Berita Acara Rapat",
        service="approval",
        entered_by=("MeetingHeld",),
        left_by=("BAsigned",),
    ),
    Step(
        number=7,
        code="ASSIGN",
        sop_number="7",
        label_id="Menerbitkan Surat Tugas bagi Tim Pembangunan/Pengembangan Aplikasi",
        label_en="Issue the assignment letter for the development team",
        actor_role="KADIS",
        participant_roles=("KADIS",),
        supervisor_role=None,
        inputs=("Berita Acara",),
        standard_minutes=30,
        standard_time_label="30 menit",
        output_document="Surat Tugas",
        name_id="Surat Tugas",
        service="approval",
        entered_by=("BAsigned",),
        left_by=("TaskAssigned",),
    ),
    Step(
        number=8,
        code="DEVELOP",
        sop_number="8",
        label_id=(
            "Melakukan pembangunan/pengembangan aplikasi yang bersifat khusus sesuai dengan "
            "proses bisnis, lingkup dan timeline yang telah disepakati sebelumnya"
        ),
        label_en=(
            "Build the application according to the agreed business process, scope and timeline"
        ),
        actor_role="TIM_PENGEMBANG",
        participant_roles=_TEAM,
        supervisor_role="KABID_TI",
        inputs=("Berita Acara", "Surat Tugas", "Komputer/Laptop", "Internet"),
        standard_minutes=45 * _DAY,
        standard_time_label="± 30-45 hari",
        output_document="Aplikasi",
        name_id="Pengembangan",
        service="dev_tracking",
        entered_by=("TaskAssigned", "DevelopmentStarted", "UATRejected"),
        left_by=(
            "TestPassed:SYSTEM",
            "TestFailed:SYSTEM",
            "TestPassed:INTEGRATION",
            "TestFailed:INTEGRATION",
        ),
    ),
    Step(
        number=9,
        code="SYSTEM_TEST",
        sop_number="9",
        label_id="Melaksanakan System Testing",
        label_en="System testing",
        actor_role="TIM_PENGEMBANG",
        participant_roles=_TEAM,
        supervisor_role="KABID_TI",
        inputs=_TEST_INPUTS,
        standard_minutes=2 * _HOUR,
        standard_time_label="2 jam",
        output_document="Berita Acara System Testing",
        name_id="Uji Sistem",
        service="dev_tracking",
        entered_by=("TestFailed:SYSTEM",),
        left_by=("TestPassed:SYSTEM",),
        test_kind="SYSTEM",
    ),
    Step(
        number=10,
        code="UNIT_TEST",
        sop_number="10",
        label_id="Melaksanakan Unit Testing",
        label_en="Unit testing",
        actor_role="TIM_PENGEMBANG",
        participant_roles=_TEAM,
        supervisor_role="KABID_TI",
        inputs=_TEST_INPUTS,
        standard_minutes=2 * _HOUR,
        standard_time_label="2 jam",
        output_document="Berita Acara Unit Testing",
        name_id="Uji Unit",
        service="dev_tracking",
        entered_by=("TestPassed:SYSTEM", "TestFailed:UNIT"),
        left_by=("TestPassed:UNIT",),
        test_kind="UNIT",
    ),
    Step(
        number=11,
        code="INTEGRATION_TEST",
        sop_number="11",
        label_id="Melaksanakan Integration Testing",
        label_en="Integration testing",
        actor_role="TIM_PENGEMBANG",
        participant_roles=_TEAM,
        supervisor_role="KABID_TI",
        inputs=_TEST_INPUTS,
        standard_minutes=2 * _HOUR,
        standard_time_label="2 jam",
        # The scan says "Berita Acara Unit Testing" here too: a copy slip.
        output_document="Berita Acara Integration Testing",
        name_id="Uji Integrasi",
        service="dev_tracking",
        entered_by=("TestPassed:UNIT", "TestFailed:INTEGRATION"),
        left_by=("TestPassed:INTEGRATION",),
        test_kind="INTEGRATION",
    ),
    Step(
        number=12,
        code="MANUAL",
        sop_number="11",
        label_id="Menyusun manual book",
        label_en="Write the manual book",
        actor_role="TIM_PENGEMBANG",
        participant_roles=_TEAM,
        supervisor_role="KABID_TI",
        inputs=_REVIEW_INPUTS,
        standard_minutes=1 * _DAY,
        standard_time_label="1 hari",
        output_document="Manual Book Aplikasi",
        name_id="Buku Manual",
        service="dev_tracking",
        entered_by=("TestPassed:INTEGRATION",),
        left_by=("ManualPublished",),
        once_per_request=True,
    ),
    Step(
        number=13,
        code="UAT",
        sop_number="12",
        label_id="Melaksanakan User Acceptance Test (UAT)",
        label_en="User Acceptance Test (UAT)",
        actor_role="PEMOHON",
        participant_roles=("PEMOHON", "TIM_PENGEMBANG"),
        supervisor_role="KABID_TI",
        inputs=_REVIEW_INPUTS,
        standard_minutes=1 * _DAY,
        standard_time_label="1 hari",
        output_document="Berita Acara User Acceptance Test (UAT)",
        name_id="User Acceptance Test (UAT)",
        service="dev_tracking",
        entered_by=("TestPassed:INTEGRATION", "ManualPublished"),
        left_by=("UATRejected", "RequestCompleted"),
        rework_step="DEVELOP",
        retest="INTEGRATION",
    ),
    Step(
        number=14,
        code="DONE",
        sop_number="13",
        label_id="Selesai",
        label_en="Done",
        actor_role=None,
        participant_roles=(),
        supervisor_role=None,
        inputs=(),
        standard_minutes=0,
        standard_time_label="",
        output_document="",
        name_id="Selesai",
        service="dev_tracking",
        entered_by=("RequestCompleted",),
        left_by=(),
    ),
)
"""All 14 steps, in order: ``STEPS[n - 1].number == n``."""

_BY_CODE: dict[str, Step] = {s.code: s for s in STEPS}

TEST_ORDER: tuple[TestKind, ...] = tuple(s.test_kind for s in STEPS if s.test_kind is not None)
"""The SOP's test order (system, unit, integration): the order of the test steps."""

TEST_STEP: dict[TestKind, StepCode] = {s.test_kind: s.code for s in STEPS if s.test_kind}
"""The step at which each kind of test happens (steps 9, 10 and 11)."""


class UnknownStep(LookupError):
    """Raised for a step code or number that is not in the catalogue."""


def step(code: str) -> Step:
    """The step with this code, e.g. ``step("VERIFY").number == 4``."""
    try:
        return _BY_CODE[code]
    except KeyError:
        raise UnknownStep(f"unknown step code {code!r}") from None


def step_by_number(number: int) -> Step:
    """The step with the project's number (1..14, not the SOP's own number)."""
    if not 1 <= number <= len(STEPS):
        raise UnknownStep(f"no step number {number}; steps are 1..{len(STEPS)}")
    return STEPS[number - 1]


def next_step(code: str) -> Step | None:
    """The step after ``code`` on the happy path, or ``None`` after DONE."""
    current = step(code)
    return STEPS[current.number] if current.number < len(STEPS) else None
