package io.pypool;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * What the pool knows of its own health. Every {@code healthCheckInterval} on the pool's clock:
 * a stopped or zombie process is ended at once; an idle worker is pinged (a ping past its
 * deadline retires it, like any call); a busy worker is judged by progress (finished calls or CPU
 * time), never by ping; recycling limits are applied. {@link #report()} reads this state and the
 * last incidents; it never pings.
 */
final class HealthMonitor {
    private static final int MAX_INCIDENTS = 20;

    private final PoolEngine pool;
    private final PoolSettings settings;
    private final ArrayDeque<String> incidents = new ArrayDeque<>();
    /** On the pool's clock: when the health check and the session sweep last ran (housekeeping thread only). */
    private long lastHealthCheck;
    private long lastSessionSweep;

    HealthMonitor(PoolEngine pool) {
        this.pool = pool;
        this.settings = pool.settings();
        this.lastHealthCheck = pool.clock().nanoTime();
        this.lastSessionSweep = lastHealthCheck;
    }

    /** The periodic heartbeat (real time); the work inside follows the pool's clock, so a ManualClock drives it. */
    void tick() {
        long now = pool.clock().nanoTime();
        if (now - lastHealthCheck >= settings.healthCheckInterval().toNanos()) {
            lastHealthCheck = now;
            check();
        }
        long sessionSweep = Math.max(TimeUnit.MILLISECONDS.toNanos(50),
                Math.min(settings.sessionIdleTtl().toNanos() / 4, TimeUnit.SECONDS.toNanos(5)));
        if (now - lastSessionSweep >= sessionSweep) {
            lastSessionSweep = now;
            pool.sessions().expire();
        }
    }

    void incident(String what) {
        synchronized (incidents) {
            if (incidents.size() == MAX_INCIDENTS) {
                incidents.removeFirst();
            }
            incidents.addLast(Instant.now() + " " + what);
        }
    }

    private List<String> recentIncidents() {
        synchronized (incidents) {
            return List.copyOf(incidents);
        }
    }

    private void check() {
        long now = pool.clock().nanoTime();
        long interval = settings.healthCheckInterval().toNanos();
        for (Worker w : pool.workers()) {
            WorkerTransport t = w.transport();
            if (!w.isReady() || t == null) {
                continue;
            }
            ProcFs.Sample sample = t.sample();
            if (sample != null) {
                if (sample.stopped()) {
                    pool.supervisor().fail(w, "it was found stopped (process state " + sample.state()
                            + ": SIGSTOP or a debugger) by the health check");
                    continue;
                }
                if (sample.state() == 'Z') {
                    // Usually it has just exited and its exit, with the true cause, is on its way:
                    // only a zombie seen at two checks in a row is ended here.
                    if (w.seenZombie()) {
                        pool.supervisor().fail(w, "it was found a zombie by two health checks in a row");
                    }
                    continue;
                }
                w.sampled(sample, now);
            }
            if (w.inFlight() == 0) {
                w.healthProblem(null);
                if (now - w.lastReplyNanos() >= interval) {
                    ping(w, interval);
                }
            } else if (w.waitsOnHost()) {
                w.heardFrom(now); // Java's turn (a callback, a consumer that has not read): not a hang of the worker
                w.healthProblem(null);
            } else if (now - w.lastProgressNanos() > 2 * interval) {
                w.healthProblem("worker " + w.id + " (pid " + w.pid() + ") has been busy for "
                        + (now - w.lastProgressNanos()) / 1_000_000 + " ms without progress (no call finished, no CPU used)");
            } else {
                w.healthProblem(null);
            }
            String recycle = recycleReason(w, now);
            if (recycle != null) {
                recycle(w, recycle);
            }
        }
        // A backstop for the deadline timers: a worker still running a call past its deadline and grace is retired.
        long graceAgo = System.nanoTime() - Dispatcher.OVERRUN_GRACE_NANOS;
        for (Worker w : pool.workers()) {
            if (w.isReady() && w.hasPending()
                    && (w.runningPastDeadline(graceAgo) || w.allPendingPastDeadline(graceAgo))) {
                pool.supervisor().retire(w, "ran a call past its deadline and grace", false);
            }
        }
    }

    private void ping(Worker w, long timeoutNanos) {
        if (w.isReady()) {
            pool.dispatcher().submitTo(w, pool.newInternalCall("ping", null, null,
                    Math.max(timeoutNanos, TimeUnit.SECONDS.toNanos(1))));
        }
    }

    private String recycleReason(Worker w, long now) {
        if (settings.recycleAfterCalls() > 0 && w.callsServed() >= settings.recycleAfterCalls()) {
            return "it served " + w.callsServed() + " calls (recycleAfterCalls " + settings.recycleAfterCalls() + ")";
        }
        Duration maxAge = settings.recycleAfterAge();
        if (maxAge != null) {
            // +-5 % per worker, fixed by its id, so that workers started together do not all go together.
            double jitter = 0.95 + 0.1 * ((w.id.hashCode() & 0x7fffffff) % 1000) / 1000.0;
            long limit = (long) (maxAge.toNanos() * jitter);
            if (now - w.createdNanos >= limit) {
                return "it reached its maximum age of " + limit / 1_000_000 + " ms (recycleAfterAge "
                        + maxAge.toMillis() + " ms +-5 %)";
            }
        }
        if (settings.recycleAboveRssBytes() > 0 && w.rssBytes() > settings.recycleAboveRssBytes()) {
            return "its resident memory of " + w.rssBytes() / (1 << 20) + " MiB passed recycleAboveRssBytes ("
                    + settings.recycleAboveRssBytes() / (1 << 20) + " MiB)";
        }
        return null;
    }

    /** Replaces a worker without failing a call; postponed while it holds sessions that could not be rebuilt elsewhere. */
    private void recycle(Worker w, String reason) {
        long stranded = pool.sessions().strandedOn(w);
        if (stranded > 0) {
            w.healthProblem("worker " + w.id + " is due for recycling (" + reason + ") but holds " + stranded
                    + " session(s) without a restore step; it is kept until they end");
            return;
        }
        pool.supervisor().retire(w, reason, true);
    }

    PoolHealth report() {
        if (pool.isClosed()) {
            return new PoolHealth(PoolHealth.Status.UNHEALTHY, List.of("pool '" + pool.name() + "' is closed"), recentIncidents());
        }
        List<String> problems = new ArrayList<>();
        int ready = 0;
        long now = System.nanoTime();
        Supervisor supervisor = pool.supervisor();
        for (Worker w : pool.workers()) {
            String givenUp = supervisor.givenUp(w.slot);
            if (w.isReady()) {
                ready++;
            } else if (givenUp != null) {
                problems.add(givenUp);
                continue;
            } else if (w.state() == Worker.State.STARTING && !supervisor.building()) {
                problems.add("worker " + w.id + " is starting (" + (w.launchedNanos() == 0 ? "waiting for a start slot"
                        : (now - w.launchedNanos()) / 1_000_000 + " ms so far") + ")"
                        + (w.replaces() == null ? "" : "; it " + w.replaces()));
            } else if (!w.isAlive()) {
                problems.add("worker " + w.id + " " + w.endReason() + "; a replacement is scheduled");
            }
            for (String problem : new String[] {w.healthProblem(), w.setupProblem()}) {
                if (problem != null) {
                    problems.add(problem);
                }
            }
        }
        for (Worker w : supervisor.retiring()) {
            if (!w.gentle()) {
                problems.add("worker " + w.id + " (pid " + w.pid() + ") is being ended: " + w.endReason());
            }
        }
        PoolHealth.Status status = ready == 0 ? PoolHealth.Status.UNHEALTHY
                : problems.isEmpty() ? PoolHealth.Status.HEALTHY : PoolHealth.Status.DEGRADED;
        if (ready == 0) {
            problems.add(0, "no worker is ready to serve " + pool.stateSummary());
        }
        return new PoolHealth(status, List.copyOf(problems), recentIncidents());
    }
}
