-- The breach decision on an incident (GDPR Art. 33 and 34), by a privacy officer: every decision is kept
-- (a changed one does not replace the earlier), the incident carries the time of the latest. aware_at is
-- when the organisation became aware: detection unless a decision recorded otherwise, with a reason; the
-- 72-hour deadline runs from it.
CREATE TABLE breach_assessments (
    id                      INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id             INTEGER NOT NULL REFERENCES incidents(id),
    risk                    TEXT NOT NULL,
    reasons                 TEXT NOT NULL,
    notify_authority        INTEGER NOT NULL,
    no_notify_rationale     TEXT,
    tell_subjects           TEXT NOT NULL,
    ground                  TEXT,
    ground_detail           TEXT,
    aware_at                TEXT NOT NULL,
    aware_change_reason     TEXT,
    delay_reasons           TEXT,
    notified_at             TEXT,
    notification_reference  TEXT,
    decided_by              TEXT NOT NULL,
    decided_at              TEXT NOT NULL
);
CREATE INDEX ix_breach_assessments_incident ON breach_assessments (incident_id);
ALTER TABLE incidents ADD COLUMN aware_at TEXT;
ALTER TABLE incidents ADD COLUMN decided_at TEXT;
