-- A draft whose number nobody typed (MeetingHeld without minutes_number) takes none: its final
-- (BAsigned) takes the register's. Such a draft is recorded with number_source NONE.
ALTER TABLE {schema}.documents DROP CONSTRAINT documents_number_source_check;
ALTER TABLE {schema}.documents ADD CONSTRAINT documents_number_source_check
    CHECK (number_source IN ('REGISTER', 'TYPED', 'NONE'));
