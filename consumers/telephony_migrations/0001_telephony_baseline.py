"""The telephony consumer's table as the release before migrations created it: each citizen's latest
routing state, their numbers, and the Kafka offsets read up to.

IF NOT EXISTS throughout, so a table that release already made is kept as it is. The SQL is frozen here:
a later change is a new migration, never an edit of this one. The same SQL holds on PostgreSQL and SQLite.
"""

from yoyo import step

steps = [
    step("CREATE TABLE IF NOT EXISTS telephony_citizens (citizen_ref TEXT PRIMARY KEY, sequence BIGINT NOT NULL,"
         " position BIGINT NOT NULL, state TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL)"),
    step("CREATE TABLE IF NOT EXISTS telephony_numbers (number TEXT NOT NULL, citizen_ref TEXT NOT NULL,"
         " PRIMARY KEY (number, citizen_ref))"),
    step("CREATE INDEX IF NOT EXISTS telephony_numbers_citizen ON telephony_numbers (citizen_ref)"),
    step("CREATE TABLE IF NOT EXISTS telephony_offsets (topic TEXT NOT NULL, partition_no INTEGER NOT NULL,"
         " topic_id TEXT, next_offset BIGINT NOT NULL, PRIMARY KEY (topic, partition_no))"),
]
