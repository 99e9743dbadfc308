package io.pypool;

import java.util.List;

/**
 * What the pool's health checks saw, told plainly.
 *
 * @param status   HEALTHY when every worker is ready and nothing is wrong; DEGRADED when the pool
 *                 serves but something is (a worker replaced, starting, stuck or given up);
 *                 UNHEALTHY when no worker can serve
 * @param problems one line per problem now: which worker, what was seen
 * @param recentIncidents the pool's last incidents, newest last, each with its time: workers that
 *                 crashed, hung, were found stopped, broke the protocol, were recycled or given up.
 *                 A replaced worker leaves the problems once its replacement is ready, but stays here.
 */
public record PoolHealth(Status status, List<String> problems, List<String> recentIncidents) {
    /** How well the pool serves, in one word. */
    public enum Status {
        /** Every worker is ready and nothing is wrong. */
        HEALTHY,
        /** The pool serves, but something is wrong: a worker replaced, starting, stuck or given up. */
        DEGRADED,
        /** No worker can serve. */
        UNHEALTHY
    }

    /**
     * Whether nothing is wrong.
     *
     * @return true when the status is {@link Status#HEALTHY}
     */
    public boolean isHealthy() {
        return status == Status.HEALTHY;
    }
}
