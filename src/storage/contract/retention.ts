/** Retention: deleting old messages with their deliveries and attempts. */

/** What one round of partition upkeep did (`maintainPartitions`). */
export interface PartitionUpkeep {
  /** Partitions created ahead. */
  created: string[];
  /** Partitions dropped: their whole range was past retention. */
  dropped: string[];
  /** Messages that went with the partitions dropped (their payloads, deliveries and attempts with them). */
  droppedMessages: number;
  /** Partitions past retention kept: rows in them belong to a message with an unfinished delivery. */
  kept: string[];
  /** Steps not done this round, with the reason (tried again on the next round). */
  skipped: { partition: string; reason: string }[];
}

export interface RetentionStore {
  /**
   * Deletes up to `limit` of the oldest messages created before `cutoffMs`, with their
   * deliveries and attempts. Messages with a delivery still pending or in flight are kept.
   * A store that partitions messages by day may leave the messages of the day `cutoffMs`
   * falls in to the drop of their partition (`maintainPartitions`). Returns how many
   * messages were deleted.
   */
  purgeMessagesBefore(cutoffMs: number, limit: number): Promise<number>;

  /**
   * Where attempts and messages are partitioned by time (PostgreSQL): creates the partitions
   * of the days ahead of `nowMs` that are missing and, unless `cutoffMs` is null (keep
   * everything), drops the partitions wholly older than `cutoffMs` whose rows belong to no
   * message with an unfinished delivery (a message's deliveries, event id and later attempts
   * go with it). Never throws for one partition: what it could not do is in `skipped`. A
   * store without partitions does nothing.
   */
  maintainPartitions(nowMs: number, cutoffMs: number | null): Promise<PartitionUpkeep>;
}
