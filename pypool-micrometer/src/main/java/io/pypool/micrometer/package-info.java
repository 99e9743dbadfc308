/**
 * Micrometer meters for a pypool pool: {@link io.pypool.micrometer.PypoolMetrics} listens to the
 * pool's events (calls by command and outcome, crashes, restarts, recycles) and reads its state
 * (workers by state, calls in flight and queued, sessions, resident memory), tagged by pool.
 */
package io.pypool.micrometer;
