package io.pypool.micrometer;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.pypool.CallOutcome;
import io.pypool.PoolListener;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * The pool-side half of {@link PypoolMetrics}: counts events from the moment the pool is built
 * (counters read these adders, so nothing is lost before the registry is bound), and times calls
 * once a registry is bound. Runs on the pool's threads: no locks, no allocation once a command's
 * timers exist.
 */
final class MetricsListener implements PoolListener {
    private static final CallOutcome[] OUTCOMES = CallOutcome.values();

    final LongAdder timeouts = new LongAdder();
    final LongAdder saturated = new LongAdder();
    final LongAdder crashes = new LongAdder();
    final LongAdder startFailures = new LongAdder();
    final LongAdder restarts = new LongAdder();
    final LongAdder recycles = new LongAdder();

    private final CommandTags commands;
    private final boolean histogram;
    /** Per command tag, one timer per outcome, made on first use. */
    private final ConcurrentHashMap<String, Timer[]> timers = new ConcurrentHashMap<>();
    private volatile MeterRegistry registry;
    private volatile Tags poolTags;

    MetricsListener(int maxCommands, boolean histogram) {
        this.commands = new CommandTags(maxCommands);
        this.histogram = histogram;
    }

    void bind(MeterRegistry registry, Tags poolTags) {
        this.poolTags = poolTags;
        this.registry = registry;
    }

    @Override
    public void callEnded(String command, CallOutcome outcome, long durationNanos, long queuedNanos) {
        if (outcome == CallOutcome.TIMEOUT) {
            timeouts.increment();
        } else if (outcome == CallOutcome.SATURATED) {
            saturated.increment();
        }
        MeterRegistry r = registry;
        if (r == null) {
            return; // not bound yet: only the counters above see it
        }
        String tag = commands.tagOf(command);
        Timer[] byOutcome = timers.computeIfAbsent(tag, t -> new Timer[OUTCOMES.length]);
        Timer timer = byOutcome[outcome.ordinal()];
        if (timer == null) {
            timer = Timer.builder("pypool.calls")
                    .description("Calls from when they were made to their outcome")
                    .tags(poolTags).tag("command", tag).tag("outcome", outcome.name())
                    .publishPercentileHistogram(histogram)
                    .register(r); // the registry returns the same timer to a racing thread
            byOutcome[outcome.ordinal()] = timer;
        }
        timer.record(durationNanos, TimeUnit.NANOSECONDS);
    }

    @Override
    public void workerStartFailed(String workerId, String cause) {
        startFailures.increment();
    }

    @Override
    public void workerCrashed(String workerId, String cause) {
        crashes.increment();
    }

    @Override
    public void workerReplaced(String oldWorkerId, String newWorkerId, String reason) {
        restarts.increment();
    }

    @Override
    public void workerRecycled(String workerId, String reason) {
        recycles.increment();
    }
}
