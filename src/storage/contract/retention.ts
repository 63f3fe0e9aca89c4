/** Retention: deleting old messages with their deliveries and attempts. */

export interface RetentionStore {
  /**
   * Deletes up to `limit` of the oldest messages created before `cutoffMs`, with their
   * deliveries and attempts. Messages with a delivery still pending or in flight are kept.
   * Returns how many messages were deleted.
   */
  purgeMessagesBefore(cutoffMs: number, limit: number): Promise<number>;
}
