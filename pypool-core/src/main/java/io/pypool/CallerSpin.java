package io.pypool;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A blocking caller's short watch for its reply before it parks. A small call's whole round trip
 * takes about as long as waking a parked thread, so a caller that parks pays that wake-up on top
 * of every call; one that watches for a few tens of microseconds sees its reply arrive instead.
 *
 * <p>Watching spends a CPU, so it is done only where it is likely to pay: for commands whose recent
 * replies came within the spin budget (a moving average per command; a command not seen yet is
 * tried), for a call that runs at once on its worker (not one waiting behind others), while
 * nothing waits in the pool's queue, and by at most one caller per two cores.
 */
final class CallerSpin {
    private static final int MAX_SPINNERS = Math.max(1, Runtime.getRuntime().availableProcessors() / 2);
    /** Commands whose round trips are remembered; beyond this the rest are simply not watched. */
    private static final int MAX_COMMANDS = 4096;

    private final long budgetNanos;
    private final AtomicInteger spinners = new AtomicInteger();
    /** Replies that arrived while their caller spun: each saved a thread wake-up. */
    private final AtomicLong hits = new AtomicLong();
    /** A moving average (1/8 weight per call) of each command's round trip, in nanoseconds. */
    private final ConcurrentHashMap<String, AtomicLong> roundTrips = new ConcurrentHashMap<>();

    CallerSpin(long budgetNanos) {
        this.budgetNanos = budgetNanos;
    }

    /** Watches for the reply of a call just submitted, if that is likely to pay (see the class comment). */
    void awaitBriefly(Call call, Dispatcher dispatcher) {
        Worker w = call.worker();
        if (budgetNanos == 0 || w == null || !w.runsAtOnce() || dispatcher.queued() != 0) {
            return;
        }
        if (slowCommand(call.command)) {
            return;
        }
        if (spinners.incrementAndGet() <= MAX_SPINNERS) {
            long until = System.nanoTime() + budgetNanos;
            while (!call.isDone() && System.nanoTime() - until < 0) {
                Thread.onSpinWait();
            }
            if (call.isDone()) {
                hits.incrementAndGet();
            }
        }
        spinners.decrementAndGet();
    }

    /** True when the command's recent calls took longer than the budget: its callers park at once. */
    boolean slowCommand(String command) {
        AtomicLong typical = roundTrips.get(command);
        return typical != null && typical.get() > budgetNanos;
    }

    /** Records how long a blocking call took, reply included, so that slow commands are not watched for. */
    void record(Call call, long now) {
        if (budgetNanos == 0) {
            return;
        }
        long took = now - call.startNanos;
        AtomicLong typical = roundTrips.get(call.command);
        if (typical == null) {
            if (roundTrips.size() >= MAX_COMMANDS) {
                return;
            }
            typical = roundTrips.computeIfAbsent(call.command, c -> new AtomicLong(took));
        }
        long old = typical.get();
        typical.lazySet(old + (took - old) / 8); // a lost update between racing callers costs nothing
    }

    long hits() {
        return hits.get();
    }
}
