package io.pypool.testkit;

import io.pypool.PoolClock;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A {@link PoolClock} that moves only when told. Give it to a pool
 * ({@code builder.clock(clock)}), then {@link #advance} past a session TTL, a health interval or
 * a recycling age and wait (Awaitility, a latch) for the effect: the pool's housekeeping notices
 * within its 20 ms heartbeat. No test has to sleep for the time itself.
 *
 * <p>Call deadlines do not follow this clock: they are real time, so a call still times out in a
 * pool whose clock stands still.
 */
public final class ManualClock implements PoolClock {
    private final AtomicLong nanos = new AtomicLong(1_000_000_000L);

    /** A clock standing at an arbitrary start; only {@link #advance} moves it. */
    public ManualClock() {
        // nothing to set: the start is fixed above
    }

    @Override
    public long nanoTime() {
        return nanos.get();
    }

    /**
     * Moves the clock forward.
     *
     * @param by how far; zero or more
     * @return this clock
     * @throws IllegalArgumentException if {@code by} is negative
     */
    public ManualClock advance(Duration by) {
        if (by.isNegative()) {
            throw new IllegalArgumentException("a clock never goes back; advance by " + by + " refused");
        }
        nanos.addAndGet(by.toNanos());
        return this;
    }

    @Override
    public String toString() {
        return "ManualClock[" + Duration.ofNanos(nanos.get()) + "]";
    }
}
