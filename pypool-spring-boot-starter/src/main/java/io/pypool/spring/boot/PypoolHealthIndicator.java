package io.pypool.spring.boot;

import io.pypool.PoolHealth;
import io.pypool.PoolStats;
import io.pypool.PythonPool;
import java.util.Objects;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.boot.health.contributor.Status;

/**
 * A pool's {@link PythonPool#health()} as Actuator health: HEALTHY is UP, DEGRADED (the pool
 * serves, but a worker is starting, stuck, replaced or given up) is UP unless another status is
 * configured ({@code pypool.health.degraded-status}), UNHEALTHY (no worker can serve) is DOWN.
 * The details are the pool's health status word, its problems and recent incidents, and counts
 * from {@link PythonPool#stats()}. Reading them costs no call to any worker.
 */
public final class PypoolHealthIndicator implements HealthIndicator {
    private final PythonPool pool;
    private final Status degradedStatus;

    /**
     * An indicator that reports a DEGRADED pool as UP.
     *
     * @param pool the pool; not null
     */
    public PypoolHealthIndicator(PythonPool pool) {
        this(pool, Status.UP);
    }

    /**
     * An indicator that reports a DEGRADED pool with the given status.
     *
     * @param pool the pool; not null
     * @param degradedStatus the status of a DEGRADED pool, such as {@link Status#UP} or
     *        {@link Status#OUT_OF_SERVICE}; not null
     */
    public PypoolHealthIndicator(PythonPool pool, Status degradedStatus) {
        this.pool = Objects.requireNonNull(pool, "pool");
        this.degradedStatus = Objects.requireNonNull(degradedStatus, "degradedStatus");
    }

    /**
     * The pool's health now.
     *
     * @return UP, the degraded status or DOWN, with the pool's problems and counts as details
     */
    @Override
    public Health health() {
        PoolHealth health = pool.health();
        PoolStats stats = pool.stats();
        Health.Builder builder = switch (health.status()) {
            case HEALTHY -> Health.up();
            case DEGRADED -> Health.status(degradedStatus);
            case UNHEALTHY -> Health.down();
        };
        return builder
                .withDetail("pool", stats.name())
                .withDetail("status", health.status().name())
                .withDetail("problems", health.problems())
                .withDetail("recentIncidents", health.recentIncidents())
                .withDetail("workers", stats.workers().size())
                .withDetail("readyWorkers", stats.workers().stream().filter(w -> "READY".equals(w.state())).count())
                .withDetail("busyWorkers", stats.busyWorkers())
                .withDetail("queuedCalls", stats.queuedCalls())
                .withDetail("sessions", stats.sessions())
                .withDetail("restarts", stats.restarts())
                .build();
    }
}
