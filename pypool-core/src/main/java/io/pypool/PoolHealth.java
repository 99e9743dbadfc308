package io.pypool;

import java.util.List;

/**
 * What the pool's health checks saw, told plainly.
 *
 * @param status   HEALTHY when every worker is ready and nothing is wrong; DEGRADED when the pool
 *                 serves but something is (a worker replaced, starting, stuck or given up);
 *                 UNHEALTHY when no worker can serve
 * @param problems one line per problem: which worker, what was seen
 */
public record PoolHealth(Status status, List<String> problems) {
    public enum Status { HEALTHY, DEGRADED, UNHEALTHY }

    public boolean isHealthy() {
        return status == Status.HEALTHY;
    }
}
