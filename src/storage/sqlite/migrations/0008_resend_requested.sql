-- A resend that arrives while an attempt of the delivery is in flight (status 3, sending) is
-- remembered here and served when that attempt is recorded: the delivery becomes pending,
-- due at once, with a manual trigger, and the flag is cleared in the same transaction.
ALTER TABLE deliveries ADD COLUMN resend_requested INTEGER NOT NULL DEFAULT 0;
