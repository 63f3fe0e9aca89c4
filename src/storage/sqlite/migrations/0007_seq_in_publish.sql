-- The publishing transaction assigns seq itself (it reads pull_sequence once per batch and
-- writes it back once), instead of a trigger running two UPDATEs for every inserted message.
-- Every insert into messages goes through that transaction.
DROP TRIGGER messages_assign_seq;
