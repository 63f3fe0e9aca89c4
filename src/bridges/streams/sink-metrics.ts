/**
 * What the sink dispatcher reports for metrics, through a port: this layer does not know the
 * metrics registry; the composition root hands it one that counts into Prometheus.
 */

/** One delivery round that sent a batch to a sink. */
export interface SinkDeliveryReport {
  /** The sink's type (`http`, `rabbitMq`, ...). */
  type: string;
  outcome: 'success' | 'failure';
  /** Events in the batch. */
  events: number;
  /** From the first byte sent to the reply (or the failure). */
  seconds: number;
}

export interface SinkDeliveryObserver {
  sinkDelivered(report: SinkDeliveryReport): void;
}

/** Reports nowhere (tests, or a server without metrics). */
export const NO_SINK_METRICS: SinkDeliveryObserver = { sinkDelivered: () => {} };
