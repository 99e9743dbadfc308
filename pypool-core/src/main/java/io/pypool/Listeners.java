package io.pypool;

import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A pool's {@link PoolListener}s as one: tells each in turn, and keeps a listener that throws
 * from breaking the engine (its failure is logged, at most once a minute, with how many were not).
 */
final class Listeners implements PoolListener {
    private static final Logger LOG = LoggerFactory.getLogger(PythonPool.class);
    private static final long LOG_EVERY_NANOS = TimeUnit.MINUTES.toNanos(1);

    private final String poolName;
    private final PoolListener[] listeners;
    private final AtomicLong lastLogged = new AtomicLong(System.nanoTime() - LOG_EVERY_NANOS);
    private final AtomicLong unlogged = new AtomicLong();

    Listeners(String poolName, List<PoolListener> listeners) {
        this.poolName = poolName;
        this.listeners = listeners.toArray(PoolListener[]::new);
    }

    /** False when there is nobody to tell: the call path then skips even the clock reads. */
    boolean active() {
        return listeners.length > 0;
    }

    /** Reports the start of a caller's call and, once it completes, its end. */
    void watch(Call call) {
        callStarted(call.command);
        call.whenComplete((reply, error) -> {
            long now = System.nanoTime();
            CallOutcome outcome = error != null ? CallOutcome.of(error)
                    : reply.kind() == FrameCodec.REPLY_ERROR ? CallOutcome.PYTHON_ERROR : CallOutcome.SUCCESS;
            long sent = call.markedSentNanos();
            long duration = now - call.startNanos;
            callEnded(call.command, outcome, duration, sent == 0 ? duration : sent - call.startNanos);
        });
    }

    private void each(Consumer<PoolListener> event) {
        for (PoolListener l : listeners) {
            try {
                event.accept(l);
            } catch (RuntimeException | LinkageError e) {
                failed(l, e);
            }
        }
    }

    private void failed(PoolListener l, Throwable e) {
        long now = System.nanoTime();
        long last = lastLogged.get();
        if (now - last >= LOG_EVERY_NANOS && lastLogged.compareAndSet(last, now)) {
            long more = unlogged.getAndSet(0);
            LOG.warn("pool '{}': listener {} threw; the pool carries on{}", poolName, l,
                    more == 0 ? "" : " (" + more + " more listener failures were not logged)", e);
        } else {
            unlogged.incrementAndGet();
        }
    }

    @Override
    public void callStarted(String command) {
        each(l -> l.callStarted(command));
    }

    @Override
    public void callEnded(String command, CallOutcome outcome, long durationNanos, long queuedNanos) {
        each(l -> l.callEnded(command, outcome, durationNanos, queuedNanos));
    }

    @Override
    public void workerReady(String workerId, long startNanos) {
        each(l -> l.workerReady(workerId, startNanos));
    }

    @Override
    public void workerStartFailed(String workerId, String cause) {
        each(l -> l.workerStartFailed(workerId, cause));
    }

    @Override
    public void workerCrashed(String workerId, String cause) {
        each(l -> l.workerCrashed(workerId, cause));
    }

    @Override
    public void workerReplaced(String oldWorkerId, String newWorkerId, String reason) {
        each(l -> l.workerReplaced(oldWorkerId, newWorkerId, reason));
    }

    @Override
    public void workerRecycled(String workerId, String reason) {
        each(l -> l.workerRecycled(workerId, reason));
    }

    @Override
    public void workerRetired(String workerId, String reason) {
        each(l -> l.workerRetired(workerId, reason));
    }
}
