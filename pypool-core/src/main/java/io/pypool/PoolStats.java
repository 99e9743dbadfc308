package io.pypool;

import java.util.List;

/**
 * A point-in-time view of a pool, for dashboards, logs and the demo.
 *
 * @param name         the pool's name
 * @param runId        the id on every worker's command line ({@code --run-id}), unique per pool
 * @param workers      one entry per live worker process, starting or serving
 * @param queuedCalls  calls waiting for a worker
 * @param sessions     sessions the pool knows of
 * @param restarts     worker processes started to replace lost or recycled ones
 */
public record PoolStats(String name, String runId, List<Worker> workers, int queuedCalls, int sessions, long restarts) {

    /**
     * One worker process as the pool saw it.
     *
     * @param id          the worker's id, unique within the pool (replacements get new ids)
     * @param pid         the Python process id (on the machine it runs on), or -1 before it started
     * @param state       STARTING, READY, DRAINING, STOPPED or FAILED
     * @param inFlight    calls sent to it and not yet answered
     * @param sessions    sessions pinned to it
     * @param callsServed calls it answered, the pool's own (pings, setup steps, session close
     *                    notices) included; recycling by calls counts callers' calls only
     * @param rssBytes    its resident memory at the last health check, or -1 before the first
     *                    (or where the platform does not tell, as for a worker on another machine)
     * @param location    where it runs: "local", or what its {@link WorkerBackend} says
     *                    (a Ray actor and its node, for example)
     */
    public record Worker(String id, long pid, String state, int inFlight, int sessions, long callsServed,
                         long rssBytes, String location) {}

    /**
     * How many workers were running or holding calls when the view was taken.
     *
     * @return the number of {@link #workers} with at least one call in flight
     */
    public int busyWorkers() {
        return (int) workers.stream().filter(w -> w.inFlight() > 0).count();
    }
}
