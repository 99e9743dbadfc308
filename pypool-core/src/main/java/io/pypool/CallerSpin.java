package io.pypool;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A blocking caller's short watch for its reply before it parks. A small call's whole round trip
 * takes about as long as waking a parked thread, so a caller that parks pays that wake-up on top
 * of every call; one that watches for a few tens of microseconds sees its reply arrive instead.
 *
 * <p>Watching spends a CPU, so it is done only where it is likely to pay: for commands whose recent
 * calls took no longer than the spin budget in the worker ({@link CommandTimes}; a command not seen
 * yet is tried), for a call that runs at once on its worker (not one waiting behind others), while
 * nothing waits in the pool's queue, and by at most one caller per two cores.
 */
final class CallerSpin {
    private static final int MAX_SPINNERS = Math.max(1, Runtime.getRuntime().availableProcessors() / 2);

    private final long budgetNanos;
    private final CommandTimes times;
    private final AtomicInteger spinners = new AtomicInteger();
    /** Replies that arrived while their caller spun: each saved a thread wake-up. */
    private final AtomicLong hits = new AtomicLong();

    CallerSpin(long budgetNanos, CommandTimes times) {
        this.budgetNanos = budgetNanos;
        this.times = times;
    }

    /** Watches for the reply of a call just submitted, if that is likely to pay (see the class comment). */
    void awaitBriefly(Call call, Dispatcher dispatcher) {
        Worker w = call.worker();
        if (budgetNanos == 0 || w == null || !w.runsAtOnce() || dispatcher.queued() != 0) {
            return;
        }
        if (times.slowerThan(call.command, budgetNanos)) {
            return;
        }
        if (spinners.incrementAndGet() <= MAX_SPINNERS) {
            long until = System.nanoTime() + budgetNanos;
            while (!call.isDone() && System.nanoTime() - until < 0) {
                // Yield, not a busy pause: the thread that reads the reply may be woken on this very
                // CPU (two cores: the worker holds the other) and must not wait for the spin to end.
                Thread.yield();
            }
            if (call.isDone()) {
                hits.incrementAndGet();
            }
        }
        spinners.decrementAndGet();
    }

    long hits() {
        return hits.get();
    }
}
