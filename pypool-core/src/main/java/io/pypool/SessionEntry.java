package io.pypool;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A session as the pool tracks it, and the handle callers hold. Its calls form a <em>strand</em>:
 * they are sent in the order they were made, at most {@code maxInFlight} at a time (one by
 * default), to the one worker the session is pinned to; a call holds its strand slot until the
 * worker is done with it, not merely until its caller stopped waiting. Its close notice runs after
 * its calls. Only calls of this one session ever contend on its monitor.
 */
final class SessionEntry implements PythonSession {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(PythonPool.class);
    final String id;
    private final PoolEngine pool;
    private final int maxInFlight;
    private final int maxQueued;
    /** Calls of this session made and not finished; an idle session has none. */
    final AtomicInteger active = new AtomicInteger();
    volatile long lastUsedNanos;

    // guarded by this
    private final ArrayDeque<Call> waiting = new ArrayDeque<>();
    private int running;
    private Worker worker;
    /** Set when the session moved off a worker that held its state; cleared when a restore step succeeds. */
    private boolean restorePending;
    /** The restore under way: true when it succeeded, false when its worker went (try again), failed when the session is lost. */
    private CompletableFuture<Boolean> restoring;
    private int restoreAttempts;
    private boolean closeNoticeDue;
    private String lostBecause;
    private String restoreCommand;
    private Object restoreArgs;

    /** True once a call of this session reached its worker: from then on, state may exist there. */
    private volatile boolean touchedWorker;
    /** Why it takes no new calls (closed, expired, lost), or null while it does. */
    private volatile String endedBecause;

    SessionEntry(String id, PoolEngine pool, int maxInFlight, int maxQueued, long now) {
        this.id = id;
        this.pool = pool;
        this.maxInFlight = maxInFlight;
        this.maxQueued = maxQueued;
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
    public <T> java.util.stream.Stream<T> stream(String command, Object args, Class<T> itemType, StreamOptions options) {
        return pool.streams().stream(this, command, args, itemType, options);
    }

    @Override
    public <T> java.util.concurrent.Flow.Publisher<T> publisher(String command, Object args, Class<T> itemType,
                                                               StreamOptions options) {
        return pool.streams().publisher(this, command, args, itemType, options);
    }

    @Override
    public void close() {
        pool.sessions().close(this, "closed by its owner");
    }

    @Override
    public synchronized PythonSession onRestore(String command, Object args) {
        if (command == null || command.isEmpty()) {
            throw new IllegalArgumentException("restore command must be a non-empty name");
        }
        pool.checkEncodable(command, args); // fails here, not when the session needs restoring
        this.restoreArgs = args;
        this.restoreCommand = command;
        return this;
    }

    synchronized boolean restorable() {
        return restoreCommand != null;
    }

    synchronized Worker worker() {
        return worker;
    }

    String endedBecause() {
        return endedBecause;
    }

    void markTouched() {
        touchedWorker = true;
    }

    boolean touchedWorker() {
        return touchedWorker;
    }

    // ---- the strand ------------------------------------------------------------------------

    /**
     * Puts a caller's call at the end of the strand, then runs the strand. When the strand's queue
     * is full a blocking caller under the WAIT policy waits for room within its deadline; anyone
     * else fails at once.
     */
    void enqueue(Call call, boolean mayWait) throws InterruptedException {
        PypoolException refused = null;
        synchronized (this) {
            while (endedBecause == null && waiting.size() >= maxQueued && mayWait) {
                long left = call.remainingNanos(System.nanoTime());
                if (left <= 0) {
                    break;
                }
                java.util.concurrent.TimeUnit.NANOSECONDS.timedWait(this, left);
            }
            if (endedBecause != null) {
                refused = pool.sessionLost(this);
            } else if (waiting.size() >= maxQueued) {
                refused = mayWait
                        ? new CallTimeoutException(pool.name(), "call '" + call.command + "' in " + this + " timed out after "
                                + call.elapsedMillis(System.nanoTime()) + " ms waiting for room in the session's queue ("
                                + maxQueued + " calls, maxQueuedCallsPerSession)", false)
                        : new PoolSaturatedException(pool.name(), "call '" + call.command + "' rejected: " + this
                                + " already has " + maxQueued + " calls waiting (maxQueuedCallsPerSession)");
            } else {
                waiting.add(call);
            }
        }
        if (refused != null) {
            if (call.abandonIfQueued()) {
                call.completeExceptionally(refused);
            }
            return;
        }
        runStrand();
    }

    /** Sends waiting calls while the strand has free slots, in the order they were made. */
    private void runStrand() {
        while (true) {
            Call next;
            Runnable closeNotice;
            synchronized (this) {
                closeNotice = running < maxInFlight && !waiting.isEmpty() ? null : closeNoticeIfDue();
                if (running >= maxInFlight || waiting.isEmpty()) {
                    next = null;
                } else {
                    next = waiting.poll();
                    running++;
                    next.takeStrandSlot();
                    notifyAll(); // room for a caller waiting under the WAIT policy
                }
            }
            if (next == null) {
                if (closeNotice != null) {
                    closeNotice.run();
                }
                return;
            }
            dispatch(next);
        }
    }

    /** A call of the strand is done on its worker (or never reached one): the next may go. */
    void strandSlotFreed() {
        synchronized (this) {
            running--;
        }
        runStrand();
    }

    /** A caller gave up on a call still waiting in the strand. */
    synchronized void removeWaiting(Call call) {
        if (waiting.remove(call)) {
            notifyAll();
        }
    }

    /**
     * Sends one call of the strand to the session's worker, pinning or moving the session first:
     * a session whose worker left service moves to another if nothing of it was there yet or it
     * has a restore step (which then runs first); otherwise it is lost.
     */
    private void dispatch(Call call) {
        Worker w;
        Call restore = null;
        CompletableFuture<Boolean> gate = null;
        synchronized (this) {
            if (lostBecause != null) {
                w = null;
            } else {
                w = worker;
                if (w != null && !w.inService()) {
                    if (!touchedWorker || restoreCommand != null) {
                        w.unpinSession();
                        restorePending = restorePending || touchedWorker;
                        touchedWorker = false;
                        worker = null;
                        w = null;
                    } else {
                        loseLocked("its worker " + w.id + " " + Dispatcher.leftService(w));
                        w = null; // nothing goes to it, and no restore is started for a lost session
                    }
                }
                if (lostBecause == null && w == null) {
                    w = pool.supervisor().leastLoadedForSession();
                    if (w != null) {
                        w.pinSession();
                        worker = w;
                    } else {
                        loseLocked("it has no worker to run on: every worker of the pool has failed " + pool.stateSummary());
                    }
                }
                if (w != null && restorePending) {
                    if (restoring == null || restoring.isDone()) {
                        restoring = new CompletableFuture<>();
                        restore = pool.newRestoreCall(this, restoreCommand, restoreArgs);
                    }
                    gate = restoring;
                }
            }
        }
        if (w == null) {
            failLost(); // the waiting calls first: failing this one frees the strand, which would dispatch them one by one
            failStrandCall(call);
            return;
        }
        if (restore != null) {
            Call r = restore;
            r.whenComplete((reply, error) -> restoreDone(r, reply, error));
            pool.dispatcher().submitTo(w, r);
        }
        if (gate != null) {
            // Restored: go on. Its worker went meanwhile: dispatch again (a new restore runs first). Lost: fail.
            gate.whenComplete((restored, error) -> {
                if (error == null) {
                    dispatch(call);
                } else {
                    failStrandCall(call);
                }
            });
            return;
        }
        pool.dispatcher().submitTo(w, call);
    }

    private static final int MAX_RESTORE_ATTEMPTS = 3;

    /**
     * The one place a restore's outcome is judged, before any call waiting for it moves on: it
     * succeeded; or its worker went under it (tried again on the next worker, up to
     * {@value #MAX_RESTORE_ATTEMPTS} times); or it failed, and the session is lost.
     */
    private void restoreDone(Call restore, Call.Reply reply, Throwable error) {
        Throwable cause = error == null ? null : PoolEngine.unwrap(error);
        String problem = cause != null ? cause.getMessage()
                : reply.kind() == FrameCodec.REPLY_OK ? null : FrameCodec.utf8(reply.body());
        boolean workerWent = cause instanceof WorkerCrashedException || cause instanceof ProtocolException;
        CompletableFuture<Boolean> outcome;
        boolean retry = false;
        synchronized (this) {
            outcome = restoring;
            if (problem == null) {
                restorePending = false;
                restoreAttempts = 0;
            } else if (workerWent && ++restoreAttempts < MAX_RESTORE_ATTEMPTS) {
                retry = true;
            }
        }
        if (problem == null) {
            LOG.info("pool '{}': {} restored on worker {}", pool.name(), this, reply.worker().id);
            outcome.complete(true);
        } else if (retry) {
            LOG.warn("pool '{}': the worker running the restore step of {} went ({}); restoring on another", pool.name(),
                    this, problem);
            outcome.complete(false);
        } else {
            LOG.warn("pool '{}': {} could not be restored: {}", pool.name(), this, problem);
            lose("its restore step '" + restore.command + "' failed: " + problem);
            outcome.completeExceptionally(pool.sessionLost(this));
        }
    }

    /** A call of this session came back from a worker that left service (not run there): send it again. */
    void redispatch(Call call, String why) {
        if (call.kind == Call.Kind.INTERNAL) {
            // A close notice: the state it would free went with the worker.
            call.abandonIfQueued();
            call.complete(null);
            return;
        }
        if (call.kind == Call.Kind.RESTORE) {
            // Its worker left before running it: judged like a worker lost under it (tried on another).
            if (call.abandonIfQueued() || !call.isDone()) {
                call.completeExceptionally(new WorkerCrashedException(pool.name(), "?", "the restore step of " + this
                        + " could not run: " + why, null, List.of()));
            }
            return;
        }
        dispatch(call);
    }

    private void failStrandCall(Call call) {
        if (call.abandonIfQueued() || !call.isDone()) {
            call.completeExceptionally(pool.sessionLost(this));
        }
        call.settle();
    }

    private void loseLocked(String because) {
        if (lostBecause == null) {
            lostBecause = because;
            if (worker != null) {
                worker.unpinSession();
                worker = null;
            }
            if (endedBecause == null) {
                endedBecause = because;
            }
        }
    }

    /** The session cannot go on: every call still waiting in its strand fails with SessionLostException. */
    void lose(String because) {
        synchronized (this) {
            loseLocked(because);
        }
        failLost();
    }

    private void failLost() {
        List<Call> failed;
        synchronized (this) {
            failed = new ArrayList<>(waiting);
            waiting.clear();
            notifyAll();
        }
        for (Call c : failed) {
            if (c.abandonIfQueued()) {
                c.completeExceptionally(pool.sessionLost(this));
            }
        }
        pool.sessions().forget(this);
    }

    /**
     * Ends the session once: no new calls; the ones already made still run, then the worker is
     * told to free its state. Returns false if it had already ended.
     */
    boolean end(String because) {
        synchronized (this) {
            if (endedBecause != null) {
                return false;
            }
            endedBecause = because;
            closeNoticeDue = true;
            notifyAll();
        }
        runStrand();
        return true;
    }

    /**
     * Guarded by this: once the strand is empty, the close notice goes to the worker, after every
     * call of the session. Returns the sending, to be run outside this monitor, or null.
     */
    private Runnable closeNoticeIfDue() {
        if (!closeNoticeDue || running > 0 || !waiting.isEmpty()) {
            return null;
        }
        closeNoticeDue = false;
        Worker w = worker;
        if (w != null) {
            w.unpinSession();
            worker = null;
        }
        if (w == null || !touchedWorker || !w.inService() || lostBecause != null) {
            return null;
        }
        Call notice = pool.newInternalCall("close_session", null, this, pool.settings().callTimeout().toNanos());
        return () -> pool.dispatcher().submitTo(w, notice);
    }

    @Override
    public String toString() {
        return "session '" + id + "'";
    }
}
