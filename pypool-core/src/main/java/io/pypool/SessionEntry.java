package io.pypool;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A session as the pool tracks it, and the handle callers hold. Pinned to one worker at first use;
 * once closed, expired or lost it stays so, and its calls fail with {@link SessionLostException}
 * naming why. {@code pool.session(id)} then hands out a fresh session under the same id.
 */
final class SessionEntry implements PythonSession {
    final String id;
    private final PoolEngine pool;
    /** Calls of this session not yet finished; an idle session has none. */
    final AtomicInteger active = new AtomicInteger();
    volatile long lastUsedNanos;
    private volatile Worker worker;
    /** True once a call of this session reached its worker: from then on, state may exist there. */
    private volatile boolean touchedWorker;
    private volatile String endedBecause;
    private volatile String restoreCommand;
    private volatile Object restoreArgs;
    /** Set when the session moved to a new worker and its restore step has not been sent yet. */
    private boolean restorePending;
    /** The restore call under way; the session's other calls wait for it. */
    private CompletableFuture<PendingCall.Reply> restoring;

    SessionEntry(String id, PoolEngine pool, long now) {
        this.id = id;
        this.pool = pool;
        this.lastUsedNanos = now;
    }

    @Override
    public String id() {
        return id;
    }

    @Override
    public <T> T call(String command, Object args, Class<T> resultType, CallOptions options) throws InterruptedException {
        return pool.callBlocking(this, command, args, resultType, options);
    }

    @Override
    public <T> CompletableFuture<T> callAsync(String command, Object args, Class<T> resultType, CallOptions options) {
        return pool.callAsync(this, command, args, resultType, options);
    }

    @Override
    public void close() {
        pool.closeSession(this, "closed by its owner");
    }

    @Override
    public PythonSession onRestore(String command, Object args) {
        if (command == null || command.isEmpty()) {
            throw new IllegalArgumentException("restore command must be a non-empty name");
        }
        this.restoreArgs = args;
        this.restoreCommand = command;
        return this;
    }

    boolean restorable() {
        return restoreCommand != null;
    }

    Worker worker() {
        return worker;
    }

    String endedBecause() {
        return endedBecause;
    }

    /**
     * The worker this session's calls go to, pinning it on first use. Synchronized on the session
     * alone: only calls of one session ever contend here.
     */
    synchronized Worker pin(PoolEngine engine) {
        Worker w = worker;
        boolean gone = w != null && (!w.isAlive() || w.state() == Worker.State.DRAINING);
        if (gone && (!touchedWorker || restoreCommand != null)) {
            // Nothing was lost (it never reached that worker), or the owner told us how to rebuild it.
            w.unpinSession();
            restorePending = touchedWorker;
            touchedWorker = false;
            worker = null;
            w = null;
        }
        if (w == null) {
            w = engine.leastLoadedForSession();
            if (w != null) {
                w.pinSession();
                worker = w;
            }
        }
        return w;
    }

    /**
     * What a call of this session must wait for before it is sent: null when nothing, else the
     * restore call (created here, once, by the first call that finds the session moved).
     */
    synchronized CompletableFuture<PendingCall.Reply> restoreGate(PoolEngine engine) {
        if (restorePending) {
            restorePending = false;
            restoring = engine.newRestoreCall(this, restoreCommand, restoreArgs);
            return restoring;
        }
        CompletableFuture<PendingCall.Reply> r = restoring;
        return r != null && !r.isDone() ? r : null;
    }

    void markTouched() {
        touchedWorker = true;
    }

    boolean touchedWorker() {
        return touchedWorker;
    }

    /** Ends the session once; returns false if it had already ended. */
    synchronized boolean end(String because) {
        if (endedBecause != null) {
            return false;
        }
        endedBecause = because;
        Worker w = worker;
        if (w != null) {
            w.unpinSession();
        }
        return true;
    }

    @Override
    public String toString() {
        return "session '" + id + "'";
    }
}
