package io.pypool.micrometer;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.BaseUnits;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.pypool.PoolListener;
import io.pypool.PoolStats;
import io.pypool.PythonPool;
import java.util.Objects;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.ToDoubleFunction;

/**
 * Micrometer meters for one pool. A pool's events can only be heard by a listener given when it
 * is built, and its gauges need the built pool, so it takes three steps:
 *
 * <pre>{@code
 * PypoolMetrics metrics = new PypoolMetrics();
 * PythonPool pool = PythonPool.builder().listener(metrics.listener()).build();
 * metrics.monitor(pool).bindTo(registry);
 * }</pre>
 *
 * <p>Every meter is tagged {@code pool=<name>}; none by session (sessions are unbounded):
 * <ul>
 * <li>{@code pypool.workers} (gauge, tag {@code state}: STARTING, READY, DRAINING, STOPPED, FAILED)
 * <li>{@code pypool.calls.active} calls sent to workers and not yet answered;
 *     {@code pypool.calls.queued} calls waiting for a worker (gauges)
 * <li>{@code pypool.sessions} sessions the pool keeps (gauge)
 * <li>{@code pypool.workers.memory.resident} the workers' resident memory, summed, in bytes (gauge;
 *     measured at each health check)
 * <li>{@code pypool.calls} (timer, tags {@code command} and {@code outcome}, a
 *     {@link io.pypool.CallOutcome}); no percentile histogram unless
 *     {@link #percentileHistogram(boolean)} asks
 * <li>{@code pypool.calls.timeouts}, {@code pypool.calls.saturated}, {@code pypool.workers.crashes},
 *     {@code pypool.workers.start.failures}, {@code pypool.workers.restarts},
 *     {@code pypool.workers.recycles} (counters)
 * </ul>
 *
 * <p>The {@code command} tag takes the first {@link #maxCommands(int)} (default 100) distinct
 * command names; calls of any other are tagged {@code other}. Counters count from the pool's
 * build; calls are timed from {@link #bindTo}. One instance serves one pool and one registry
 * (bind a {@code CompositeMeterRegistry} to publish to several).
 */
public final class PypoolMetrics implements MeterBinder {
    private int maxCommands = 100;
    private boolean histogram;
    private MetricsListener listener;
    private PythonPool pool;
    private boolean bound;

    /** Metrics with the defaults: 100 command names, percentile histograms off. */
    public PypoolMetrics() {
        // the defaults are the fields' initial values
    }

    /**
     * How many distinct command names get their own {@code command} tag; default 100.
     *
     * @param max at least 1; calls of commands past the first {@code max} are tagged {@code other}
     * @return these metrics
     * @throws IllegalArgumentException if {@code max} is below 1
     * @throws IllegalStateException if {@link #listener()} was already called
     */
    public synchronized PypoolMetrics maxCommands(int max) {
        if (max < 1) {
            throw new IllegalArgumentException("maxCommands = '" + max + "' is invalid: must be at least 1");
        }
        checkNoListenerYet("maxCommands");
        this.maxCommands = max;
        return this;
    }

    /**
     * Whether {@code pypool.calls} publishes a percentile histogram; default false (it multiplies the series).
     *
     * @param publish true to publish the histogram's buckets, for percentiles computed by the monitoring system
     * @return these metrics
     * @throws IllegalStateException if {@link #listener()} was already called
     */
    public synchronized PypoolMetrics percentileHistogram(boolean publish) {
        checkNoListenerYet("percentileHistogram");
        this.histogram = publish;
        return this;
    }

    /**
     * The listener to give {@link io.pypool.PythonPoolBuilder#listener}; the same one each time.
     *
     * @return the listener, made with the settings given so far (they cannot change afterwards)
     */
    public synchronized PoolListener listener() {
        if (listener == null) {
            listener = new MetricsListener(maxCommands, histogram);
        }
        return listener;
    }

    /**
     * The pool built with {@link #listener()}: its name tags the meters, its stats feed the gauges.
     *
     * @param pool the pool; not null
     * @return these metrics, to {@link #bindTo} a registry
     * @throws IllegalStateException if these metrics already monitor another pool
     */
    public synchronized PypoolMetrics monitor(PythonPool pool) {
        Objects.requireNonNull(pool, "pool");
        if (this.pool != null && this.pool != pool) {
            throw new IllegalStateException("these metrics already monitor pool '" + this.pool.name() + "'");
        }
        this.pool = pool;
        return this;
    }

    /**
     * Registers the meters with {@code registry}; the gauges read {@code pool.stats()} whenever the
     * registry samples them.
     *
     * @param registry the registry; not null. Bind a {@code CompositeMeterRegistry} to publish to several.
     * @throws IllegalStateException before {@link #monitor} or {@link #listener()}, or when already bound
     */
    @Override
    public synchronized void bindTo(MeterRegistry registry) {
        Objects.requireNonNull(registry, "registry");
        if (pool == null || listener == null) {
            throw new IllegalStateException("build the pool with listener(), then call monitor(pool) before bindTo");
        }
        if (bound) {
            throw new IllegalStateException("already bound to a registry; bind a CompositeMeterRegistry to publish to several");
        }
        bound = true;
        Tags tags = Tags.of("pool", pool.name());
        PythonPool p = pool;
        for (String state : new String[] {"STARTING", "READY", "DRAINING", "STOPPED", "FAILED"}) {
            gauge(registry, "pypool.workers", "Worker processes in this state", "processes",
                    tags.and("state", state), p, q -> q.stats().workers().stream().filter(w -> w.state().equals(state)).count());
        }
        gauge(registry, "pypool.calls.active", "Calls sent to workers and not yet answered", null, tags, p,
                q -> q.stats().workers().stream().mapToInt(PoolStats.Worker::inFlight).sum());
        gauge(registry, "pypool.calls.queued", "Calls waiting for a worker", null, tags, p, q -> q.stats().queuedCalls());
        gauge(registry, "pypool.sessions", "Sessions the pool keeps", BaseUnits.SESSIONS, tags, p, q -> q.stats().sessions());
        gauge(registry, "pypool.workers.memory.resident", "Resident memory of the worker processes, summed",
                BaseUnits.BYTES, tags, p, PypoolMetrics::residentBytes);
        counter(registry, "pypool.calls.timeouts", "Calls that ended past their deadline", tags, listener.timeouts);
        counter(registry, "pypool.calls.saturated", "Calls turned away by a full queue", tags, listener.saturated);
        counter(registry, "pypool.workers.crashes", "Serving workers that died unasked", tags, listener.crashes);
        counter(registry, "pypool.workers.start.failures", "Workers that failed to start", tags, listener.startFailures);
        counter(registry, "pypool.workers.restarts", "Workers started to replace lost, retired or recycled ones", tags,
                listener.restarts);
        counter(registry, "pypool.workers.recycles", "Healthy workers replaced by a recycling limit", tags,
                listener.recycles);
        listener.bind(registry, tags);
    }

    private static double residentBytes(PythonPool pool) {
        return pool.stats().workers().stream().mapToLong(PoolStats.Worker::rssBytes).filter(b -> b > 0).sum();
    }

    private static void gauge(MeterRegistry registry, String name, String description, String unit, Tags tags,
                              PythonPool pool, ToDoubleFunction<PythonPool> value) {
        // A strong reference: the gauge must not go NaN while the application still uses the pool.
        Gauge.builder(name, pool, value).description(description).baseUnit(unit).tags(tags).strongReference(true)
                .register(registry);
    }

    private static void counter(MeterRegistry registry, String name, String description, Tags tags, LongAdder count) {
        FunctionCounter.builder(name, count, LongAdder::sum).description(description).tags(tags).register(registry);
    }

    private void checkNoListenerYet(String option) {
        if (listener != null) {
            throw new IllegalStateException(option + " must be set before listener() is called");
        }
    }
}
