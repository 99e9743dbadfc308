package io.pypool;

/**
 * The time a pool's time-driven housekeeping reads: session idle TTL, health-check intervals,
 * recycling by age. Tests substitute a clock they advance by hand, so that such behaviour is
 * tested without sleeping. Call deadlines and startup timeouts always use real time: they bound
 * real waits for real processes.
 */
@FunctionalInterface
public interface PoolClock {

    /**
     * Nanoseconds from an arbitrary origin, like {@link System#nanoTime()}; never goes back.
     *
     * @return the current time in nanoseconds, comparable only with other readings of this clock
     */
    long nanoTime();

    /**
     * The real clock, {@link System#nanoTime()}: a pool's default.
     *
     * @return the system clock
     */
    static PoolClock system() {
        return System::nanoTime;
    }
}
