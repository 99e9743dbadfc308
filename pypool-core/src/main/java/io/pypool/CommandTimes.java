package io.pypool;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * How long each command typically takes in a worker, from its request being sent to its reply:
 * a moving average (1/8 weight per reply) per command name, on the pool's clock. It lets the pool
 * choose per call: a blocking caller watches for the reply of a command that answers within its
 * spin budget ({@link CallerSpin}), and no call is queued in a worker behind a command known to
 * take longer than the pipelining window ({@link Worker#flowing}).
 */
final class CommandTimes {
    /** Commands remembered; beyond this, the others count as unknown (never a memory leak by command names). */
    private static final int MAX_COMMANDS = 4096;

    private final ConcurrentHashMap<String, AtomicLong> typical = new ConcurrentHashMap<>();

    void record(String command, long tookNanos) {
        AtomicLong t = typical.get(command);
        if (t == null) {
            if (typical.size() >= MAX_COMMANDS) {
                return;
            }
            t = typical.computeIfAbsent(command, c -> new AtomicLong(tookNanos));
        }
        long old = t.get();
        t.lazySet(old + (tookNanos - old) / 8); // a lost update between racing replies costs nothing
    }

    /** True when the command's recent calls took longer than {@code nanos}; false for one not seen yet. */
    boolean slowerThan(String command, long nanos) {
        AtomicLong t = typical.get(command);
        return t != null && t.get() > nanos;
    }
}
