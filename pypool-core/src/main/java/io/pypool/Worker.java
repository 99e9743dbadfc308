package io.pypool;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.BufferedInputStream;
import java.io.BufferedReader;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * One Python process and everything that talks to it: the write side (a short lock per frame), a
 * reader thread that matches replies to calls by request id, and a thread that drains stderr into
 * the log. A worker never comes back from FAILED or STOPPED; the pool starts a new one instead.
 */
final class Worker {
    enum State { STARTING, READY, DRAINING, STOPPED, FAILED }

    private static final Logger PYTHON_LOG = LoggerFactory.getLogger("io.pypool.python");
    private static final int STDERR_TAIL_LINES = 20;

    final String id;
    final int slot;
    private final PoolEngine pool;
    private final int inFlightLimit;
    private final AtomicReference<State> state = new AtomicReference<>(State.STARTING);
    private final AtomicInteger inFlight = new AtomicInteger();
    private final AtomicInteger pinnedSessions = new AtomicInteger();
    private final AtomicLong nextRequestId = new AtomicLong(1);
    private final AtomicLong callsServed = new AtomicLong();
    /** Calls written to the process and not yet answered, by request id. */
    final Map<Long, PendingCall> pending = new ConcurrentHashMap<>();
    /** Calls of sessions pinned here that wait for one of this worker's slots. */
    final ConcurrentLinkedQueue<PendingCall> sessionQueue = new ConcurrentLinkedQueue<>();
    private final ReentrantLock writeLock = new ReentrantLock();
    private final ArrayDeque<String> stderrTail = new ArrayDeque<>();

    /** On the pool's clock: recycling by age counts from here. */
    final long createdNanos;
    /** When the process was started (0 until then): the startup timeout counts from here. */
    volatile long spawnedNanos;
    /** Set once the worker left STARTING (ready or failed), so a start slot is given back exactly once. */
    final java.util.concurrent.atomic.AtomicBoolean startSettled = new java.util.concurrent.atomic.AtomicBoolean();
    /** Last reply, or hello: a worker quiet for a health interval gets pinged. */
    volatile long lastReplyNanos;
    /** Last time a call finished or the process used CPU: how a busy worker is judged. */
    volatile long lastProgressNanos;
    volatile long lastCpuTicks = -1;
    volatile long rssBytes = -1;
    /** What the health check last found wrong with this worker, or null. */
    volatile String healthProblem;
    /** Why this worker exists, when it replaces another ("replaces w2, which crashed"). */
    volatile String replaces;
    /** How calls still pending on this worker fail, set once it failed; read by senders that raced with the failure. */
    volatile java.util.function.Function<PendingCall, PypoolException> pendingFailure;
    /** True when it is being retired gently (recycling): it gets end of input, not a kill. */
    volatile boolean gentleDrain;
    private volatile Process process;
    private volatile OutputStream stdin;
    private volatile Thread readerThread;
    private volatile Thread stderrThread;
    private volatile String startupFailure;
    /** Why the stderr drain ended other than at end of input, if it did; shown in crash reports. */
    volatile String stderrDrainTrouble;
    private volatile String failureReason;

    Worker(PoolEngine pool, String id, int slot, int inFlightLimit, long now) {
        this.pool = pool;
        this.id = id;
        this.slot = slot;
        this.inFlightLimit = inFlightLimit;
        this.createdNanos = now;
    }

    // ---- lifecycle -----------------------------------------------------------------------

    /** Starts the process. Runs on the pool's spawner thread, which outlives every worker it starts. */
    void spawn(ProcessBuilder builder) {
        try {
            spawnedNanos = System.nanoTime();
            Process p = builder.start();
            process = p;
            stdin = p.getOutputStream();
            String tag = pool.name() + "-" + id;
            readerThread = daemon(tag + "-reader", () -> readLoop(p));
            stderrThread = daemon(tag + "-stderr", () -> drainStderr(p));
            readerThread.start();
            stderrThread.start();
        } catch (IOException | RuntimeException e) {
            startupFailure = "could not start '" + builder.command().get(0) + "': " + e.getMessage();
            pool.onWorkerFailed(this, startupFailure, null);
        }
    }

    State state() {
        return state.get();
    }

    boolean isReady() {
        return state.get() == State.READY;
    }

    boolean isAlive() {
        State s = state.get();
        return s == State.STARTING || s == State.READY || s == State.DRAINING;
    }

    boolean transition(State from, State to) {
        return state.compareAndSet(from, to);
    }

    /** Moves to a terminal state once; returns false if the worker had already ended. */
    boolean end(State terminal, String reason) {
        while (true) {
            State s = state.get();
            if (s == State.FAILED || s == State.STOPPED) {
                return false;
            }
            if (state.compareAndSet(s, terminal)) {
                failureReason = reason;
                return true;
            }
        }
    }

    long pid() {
        Process p = process;
        return p == null ? -1 : p.pid();
    }

    Process process() {
        return process;
    }

    String startupFailure() {
        return startupFailure;
    }

    String failureReason() {
        return failureReason;
    }

    // ---- slots ---------------------------------------------------------------------------

    boolean tryAcquire() {
        while (true) {
            int n = inFlight.get();
            if (n >= inFlightLimit) {
                return false;
            }
            if (inFlight.compareAndSet(n, n + 1)) {
                return true;
            }
        }
    }

    void releaseSlot() {
        inFlight.decrementAndGet();
    }

    int inFlight() {
        return inFlight.get();
    }

    boolean hasFreeSlot() {
        return inFlight.get() < inFlightLimit;
    }

    void pinSession() {
        pinnedSessions.incrementAndGet();
    }

    void unpinSession() {
        pinnedSessions.decrementAndGet();
    }

    int pinnedSessions() {
        return pinnedSessions.get();
    }

    long callsServed() {
        return callsServed.get();
    }

    // ---- the call path -------------------------------------------------------------------

    /** Writes the call to the process. The caller holds one of this worker's slots. */
    void send(PendingCall call) {
        long requestId = nextRequestId.getAndIncrement();
        call.sentTo(this, requestId);
        pending.put(requestId, call);
        if (call.session != null) {
            call.session.markTouched();
        }
        FrameCodec.stampHeader(call.frame, FrameCodec.REQUEST, requestId);
        writeLock.lock();
        try {
            OutputStream out = stdin;
            out.write(call.frame);
            out.flush();
        } catch (IOException e) {
            // The process is gone or going; the reader will see its end and fail what is pending.
            // Ending it here too makes sure that happens even if the pipe broke while the process lives.
            pool.onWorkerFailed(this, "writing to the worker failed: " + e.getMessage(), null);
        } finally {
            writeLock.unlock();
        }
    }

    private void readLoop(Process p) {
        DataInputStream in = new DataInputStream(new BufferedInputStream(p.getInputStream(), 1 << 16));
        try {
            while (true) {
                FrameCodec.Frame frame = FrameCodec.read(in, pool.settings().maxFrameBytes());
                if (frame == null) {
                    pool.onWorkerFailed(this, null, null);
                    return;
                }
                switch (frame.kind()) {
                    case FrameCodec.REPLY_OK, FrameCodec.REPLY_ERROR -> onReply(frame);
                    case FrameCodec.HELLO -> onHello(frame);
                    case FrameCodec.STARTUP_FAILED -> onStartupFailed(frame);
                    default -> throw new FrameCodec.MalformedFrameException("unexpected frame kind " + frame.kind());
                }
            }
        } catch (FrameCodec.MalformedFrameException e) {
            pool.onWorkerFailed(this, "sent a malformed frame: " + e.getMessage(), e);
        } catch (IOException e) {
            pool.onWorkerFailed(this, null, null);
        } catch (RuntimeException e) {
            pool.onWorkerFailed(this, "reader failed: " + e, e);
        }
    }

    private void onReply(FrameCodec.Frame frame) throws FrameCodec.MalformedFrameException {
        PendingCall call = pending.remove(frame.requestId());
        if (call == null) {
            throw new FrameCodec.MalformedFrameException("reply to unknown request id " + frame.requestId());
        }
        callsServed.incrementAndGet();
        long now = pool.settings().clock().nanoTime();
        lastReplyNanos = now;
        lastProgressNanos = now;
        releaseSlot();
        // Next call first, so the worker is busy again while this caller wakes up.
        pool.onSlotFreed(this);
        call.complete(new PendingCall.Reply(frame.kind(), frame.body(), this));
    }

    private void onHello(FrameCodec.Frame frame) {
        JsonNode hello;
        try {
            hello = pool.settings().objectMapper().readTree(frame.body());
        } catch (IOException e) {
            pool.onWorkerFailed(this, "sent an unreadable hello: " + FrameCodec.utf8(frame.body()), e);
            return;
        }
        lastReplyNanos = pool.settings().clock().nanoTime();
        lastProgressNanos = lastReplyNanos;
        pool.onWorkerHello(this, hello);
    }

    private void onStartupFailed(FrameCodec.Frame frame) {
        String text = FrameCodec.utf8(frame.body());
        try {
            JsonNode error = pool.settings().objectMapper().readTree(frame.body());
            text = error.path("message").asText() + "\n" + error.path("traceback").asText();
        } catch (IOException ignored) {
            // keep the raw text: it is still the best description there is
        }
        startupFailure = text.strip();
    }

    // ---- stderr ------------------------------------------------------------------------

    private void drainStderr(Process p) {
        try (BufferedReader err = new BufferedReader(new InputStreamReader(p.getErrorStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = err.readLine()) != null) {
                synchronized (stderrTail) {
                    if (stderrTail.size() == STDERR_TAIL_LINES) {
                        stderrTail.removeFirst();
                    }
                    stderrTail.addLast(line);
                }
                MDC.put("pypool.pool", pool.name());
                MDC.put("pypool.worker", id);
                try {
                    PYTHON_LOG.info("[{} {} pid {}] {}", pool.name(), id, p.pid(), line);
                } catch (RuntimeException e) {
                    // A failing log backend must not stop the drain: the pipe would fill and
                    // block the worker, and the lines that explain a crash would be lost.
                    stderrDrainTrouble = "logging a stderr line failed: " + e;
                }
            }
        } catch (IOException e) {
            // Normally the end of a dead process's stream; kept in case lines were lost with it.
            stderrDrainTrouble = "reading stderr failed: " + e;
        } catch (RuntimeException e) {
            stderrDrainTrouble = "the stderr drain failed: " + e;
        } finally {
            MDC.remove("pypool.pool");
            MDC.remove("pypool.worker");
        }
    }

    /** The last lines of stderr, after waiting briefly for the drain thread to reach the end. */
    List<String> stderrTail(long waitMillis) {
        Thread t = stderrThread;
        if (t != null && waitMillis > 0 && t != Thread.currentThread()) {
            try {
                t.join(waitMillis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        synchronized (stderrTail) {
            return new ArrayList<>(stderrTail);
        }
    }

    /** Ends the process and everything it started, and waits for it. */
    void kill(long waitMillis) {
        Process p = process;
        if (p == null) {
            return;
        }
        try {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
        } catch (RuntimeException ignored) {
            // the tree may be gone already
        }
        p.destroyForcibly();
        try {
            p.waitFor(waitMillis, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Closes the process's input: a healthy worker exits at end of input. */
    void closeInput() {
        writeLock.lock();
        try {
            OutputStream out = stdin;
            if (out != null) {
                out.close();
            }
        } catch (IOException ignored) {
            // already closed or broken: the worker is ending either way
        } finally {
            writeLock.unlock();
        }
    }

    void joinThreads(long millis) {
        for (Thread t : new Thread[] {readerThread, stderrThread}) {
            if (t != null && t != Thread.currentThread()) {
                try {
                    t.join(millis);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    static Thread daemon(String name, Runnable body) {
        Thread t = new Thread(body, name);
        t.setDaemon(true);
        return t;
    }

    @Override
    public String toString() {
        return "worker " + id + " (pid " + pid() + ", " + state.get() + ")";
    }
}
