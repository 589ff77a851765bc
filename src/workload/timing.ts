/** When a point's workload ran, in performance.now() time: steady-state statistics leave out what is outside. */
export interface LoopTiming {
  startedAt: number;
  /** When the last user finished ramping up (the start, for open loops). */
  rampedUpAt: number;
  /** When issuing stopped: budget reached, stop time, or interrupt. */
  stoppedAt: number;
}
