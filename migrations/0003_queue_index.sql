-- The sync daemon takes the oldest due entries in id order: this index lets it walk queued entries in
-- that order and stop at the batch size, instead of sorting every queued row for each batch.
CREATE INDEX outbox_queue ON outbox (state, submission_id);
