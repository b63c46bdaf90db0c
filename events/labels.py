"""What each event of a request's history means, in Indonesian: the web app's timeline and the
case file's history say it the same way."""

EVENT_LABELS: dict[str, str] = {
    "RequestSubmitted": "Permohonan diajukan",
    "RequestReceived": "Permohonan diterima",
    "RequestRevised": "Permohonan diperbaiki",
    "RequestWithdrawn": "Permohonan ditarik",
    "Disposed": "Disposisi kepada Kabid TI",
    "DocumentsVerified": "Kelengkapan dokumen diperiksa: lengkap",
    "RequestReturned": "Dikembalikan untuk perbaikan",
    "MeetingHeld": "Rapat dicatat (draft Berita Acara)",
    "BAsigned": "Berita Acara Rapat ditandatangani",
    "TaskAssigned": "Surat Tugas diterbitkan",
    "RequestRejected": "Permohonan ditolak",
    "DevelopmentStarted": "Pengembangan dimulai",
    "ProgressReported": "Kemajuan dilaporkan",
    "ProblemRecorded": "Masalah dicatat",
    "ProblemSolved": "Solusi dicatat",
    "TestPassed": "Pengujian lulus",
    "TestFailed": "Pengujian gagal",
    "ManualPublished": "Buku Manual diterbitkan",
    "UATAccepted": "UAT diterima",
    "UATRejected": "UAT ditolak",
    "RequestCompleted": "Permohonan selesai",
    "SlaBreached": "Melewati batas waktu",
}
