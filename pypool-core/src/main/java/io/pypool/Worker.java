package io.pypool;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;

/**
 * The engine's view of one worker: its state, its in-flight slots, the calls it was sent and not
 * yet answered, and the calls of its sessions that wait for a slot. How frames reach it is its
 * {@link WorkerTransport}'s business. A worker never comes back from FAILED or STOPPED; its slot
 * gets a new one. All of its state changes through its own methods.
 */
final class Worker {
    enum State { STARTING, READY, DRAINING, STOPPED, FAILED }

    final String id;
    final int slot;
    /** On the pool's clock: recycling by age counts from here. */
    final long createdNanos;
    /** How recently a pipelining worker must have made progress to be sent calls that would wait in it. */
    static final long PIPELINE_WINDOW_NANOS = 1_000_000;

    private final PoolClock clock;
    private final CommandTimes times;
    private final int inFlightLimit;
    /** Threads that run handlers in the worker: its first this-many unanswered calls are running, the rest wait there. */
    private final int handlerThreads;
    private final AtomicReference<State> state = new AtomicReference<>(State.STARTING);
    private final AtomicInteger inFlight = new AtomicInteger();
    /** Calls in flight whose handlers are {@code async def}: they hold no handler thread. */
    private final AtomicInteger asyncInFlight = new AtomicInteger();
    private final AtomicInteger pinnedSessions = new AtomicInteger();
    private final AtomicLong nextRequestId = new AtomicLong(1);
    private final Object sendOrder = new Object();
    /** Callers' calls it answered: what recycling by calls counts. */
    private final AtomicLong callsServed = new AtomicLong();
    /** Everything it answered, pings, setup steps and notices included: what stats show. */
    private final AtomicLong answered = new AtomicLong();
    /** Bytes of requests it was sent and has not answered: an upper bound on what it has not read yet. */
    private final AtomicLong unansweredBytes = new AtomicLong();
    private final Map<Long, Call> pending = new ConcurrentHashMap<>();
    private final ConcurrentLinkedQueue<Call> sessionQueue = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean startSettled = new AtomicBoolean();
    /** When (pool clock) it last answered a sync call, or went from idle to busy: whether it is keeping up (see {@link #flowing}). */
    private volatile long lastFlowNanos;
    /** When (pool clock) it last answered a call of a sync handler: when the next one started. */
    private volatile long lastSyncAnswerNanos;
    /** The call it runs now is of a command known to take longer than the pipelining window. */
    private volatile boolean headSlow;
    /** Callbacks into Java it waits on: a handler doing so holds its thread for as long as Java takes. */
    private final AtomicInteger callbacksWaiting = new AtomicInteger();

    private volatile WorkerTransport transport;
    private volatile java.util.Set<String> asyncCommands = java.util.Set.of();
    /** Real time of the launch (0 until then): the startup timeout counts from here. */
    private volatile long launchedNanos;
    private volatile long lastReplyNanos;
    private volatile long lastProgressNanos;
    private volatile long lastCpuTicks = -1;
    private volatile long rssBytes = -1;
    private volatile String healthProblem;
    private volatile boolean zombieSeen;
    /** A setup step it refused (it serves without it), or null: reported until it is replaced. */
    private volatile String setupProblem;
    private volatile String replaces;
    private volatile String endReason;
    private volatile boolean gentle;
    private volatile Function<Call, PypoolException> pendingFailure;

    Worker(String id, int slot, int inFlightLimit, int handlerThreads, PoolClock clock, CommandTimes times) {
        this.clock = clock;
        this.times = times;
        long now = clock.nanoTime();
        this.lastSyncAnswerNanos = now;
        this.id = id;
        this.slot = slot;
        this.inFlightLimit = inFlightLimit;
        this.handlerThreads = handlerThreads;
        this.createdNanos = now;
    }

    // ---- lifecycle -----------------------------------------------------------------------

    void launched(WorkerTransport t, long realNow) {
        transport = t;
        launchedNanos = realNow;
    }

    WorkerTransport transport() {
        return transport;
    }

    long launchedNanos() {
        return launchedNanos;
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

    /** Alive and taking new work for its sessions: neither draining nor ended. */
    boolean inService() {
        State s = state.get();
        return s == State.STARTING || s == State.READY;
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
                endReason = reason;
                return true;
            }
        }
    }

    /** DRAINING; gentle (recycling) drains end with end of input, others with a kill. */
    boolean drain(String reason, boolean gentleDrain) {
        if (!state.compareAndSet(State.READY, State.DRAINING)) {
            return false;
        }
        gentle = gentleDrain;
        endReason = reason;
        return true;
    }

    boolean gentle() {
        return gentle;
    }

    String endReason() {
        return endReason;
    }

    /** True once, for whoever gives its start slot back. */
    boolean settleStart() {
        return startSettled.compareAndSet(false, true);
    }

    void replaces(String what) {
        replaces = what;
    }

    String replaces() {
        return replaces;
    }

    /** Where it runs: "local", or its backend's account of it. */
    String location() {
        WorkerTransport t = transport();
        return t == null ? "not started" : t.where();
    }

    long pid() {
        WorkerTransport t = transport;
        return t == null ? -1 : t.pid();
    }

    // ---- slots and sessions --------------------------------------------------------------

    boolean tryAcquire() {
        while (true) {
            int n = inFlight.get();
            if (n >= inFlightLimit) {
                return false;
            }
            if (inFlight.compareAndSet(n, n + 1)) {
                if (n == 0) {
                    lastFlowNanos = clock.nanoTime();
                }
                return true;
            }
        }
    }

    /**
     * Whether a call may go to it at {@code now} (pool clock): a handler thread is free (calls of
     * {@code async def} handlers hold none), or the call would wait
     * in its input behind calls that are moving (it answered, or became busy, within {@link
     * #PIPELINE_WINDOW_NANOS}), the call it runs is not of a command known to take longer than
     * that ({@link CommandTimes}), and no handler waits on a callback into Java. A worker stuck on a slow call gets no more calls queued behind
     * it; they wait in the pool's queue for whichever worker answers first. {@code slotsHeldForIt}:
     * slots already taken for the call in question.
     */
    boolean flowing(long now, int slotsHeldForIt) {
        return inFlight.get() - asyncInFlight.get() - slotsHeldForIt < handlerThreads
                || (!headSlow && callbacksWaiting.get() == 0 && now - lastFlowNanos < PIPELINE_WINDOW_NANOS);
    }

    /**
     * A handler called back into Java, or Java answered it. While one waits, nothing is queued
     * behind it: a Java function's nested call sent there would wait on the very handler that
     * waits on the function.
     */
    void callbackStarted() {
        callbacksWaiting.incrementAndGet();
    }

    void callbackAnswered() {
        callbacksWaiting.decrementAndGet();
    }

    /**
     * True when what it is busy with waits on the JVM, not on Python: a callback into Java, or a
     * stream that has used up its credit (its consumer has not taken the items yet). Such a
     * worker makes no progress of its own and is not to be reported for it.
     */
    boolean waitsOnHost() {
        if (callbacksWaiting.get() > 0) {
            return true;
        }
        for (Call call : pending.values()) {
            if (call.items != null && call.items.creditSpent()) {
                return true;
            }
        }
        return false;
    }

    /** A slot past the limit, lent to a nested call (see Dispatcher's lendParentsWorker). */
    void acquireBeyondLimit() {
        inFlight.incrementAndGet();
    }

    /** Whether a handler thread is free: fewer unanswered calls that hold one than threads. */
    boolean hasFreeThread() {
        return inFlight.get() - asyncInFlight.get() < handlerThreads;
    }

    /** Whether the call holds no handler thread in the worker (an async handler or a stream). */
    boolean holdsNoThread(Call call) {
        return isAsync(call);
    }

    void releaseSlot() {
        inFlight.decrementAndGet();
    }

    int inFlight() {
        return inFlight.get();
    }

    /** True when no call it holds waits for a handler thread: the latest one sent runs at once. */
    boolean runsAtOnce() {
        return inFlight.get() <= handlerThreads;
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

    long answered() {
        return answered.get();
    }

    void queueSessionCall(Call call) {
        sessionQueue.add(call);
    }

    Call pollSessionCall() {
        return sessionQueue.poll();
    }

    boolean removeSessionCall(Call call) {
        return sessionQueue.remove(call);
    }

    boolean hasSessionCalls() {
        return !sessionQueue.isEmpty();
    }

    // ---- calls ---------------------------------------------------------------------------

    /** Writes the call to the worker. The caller holds one of its slots and moved the call to SENT. */
    void send(Call call, long now) {
        if (call.session != null) {
            call.session.markTouched();
        }
        FrameCodec.stampDeadline(call.frame, call.remainingNanos(now) / 1_000_000);
        // Ids go onto the pipe in the order they are given: the worker starts requests in the
        // order it reads them, and which calls are running is judged by id (see started()).
        // One worker's senders only; the write inside never blocks (FrameWriter).
        synchronized (sendOrder) {
            long requestId = nextRequestId.getAndIncrement();
            call.sentTo(this, requestId, clock.nanoTime());
            pending.put(requestId, call);
            if (isAsync(call)) {
                asyncInFlight.incrementAndGet();
            } else if (pending.size() - asyncInFlight.get() == 1) {
                headSlow = knownSlow(call); // the only sync call: it runs at once, what comes next waits behind it
            }
            FrameCodec.stampHeader(call.frame, FrameCodec.REQUEST, requestId);
            transport.send(call.frame, unansweredBytes.addAndGet(call.frame.length));
        }
    }

    /**
     * Takes back a call that was handed over while the worker left service (its input was
     * already closed): true if it was still unanswered here, and now is not.
     */
    boolean takeBack(Call call) {
        if (pending.remove(call.requestId(), call)) {
            unansweredBytes.addAndGet(-call.frame.length);
            if (isAsync(call)) {
                asyncInFlight.decrementAndGet();
            }
            return true;
        }
        return false;
    }

    /** The call a reply answers, now no longer pending; null for an id it was never sent. */
    Call answered(long requestId, long clockNow) {
        Call call = pending.remove(requestId);
        if (call == null) {
            return null;
        }
        // What the call itself took, not its wait behind others in the worker's input: a sync call
        // started when it was sent or when the previous sync call ended, whichever came later.
        // (Counting the wait would make every command look slow under load, and stop pipelining.)
        if (call.items != null) {
            // A stream's length is its consumer's business, not its command's speed: not recorded.
        } else if (isAsync(call)) {
            times.record(call.command, clockNow - call.sentNanos());
        } else {
            times.record(call.command, clockNow - Math.max(call.sentNanos(), lastSyncAnswerNanos));
            lastSyncAnswerNanos = clockNow;
            // Only a sync call's end frees the thread that pipelined calls wait for: async replies
            // say nothing of whether the worker is moving.
            lastFlowNanos = clockNow;
            headSlow = knownSlow(nextSyncAfter(requestId));
        }
        unansweredBytes.addAndGet(-call.frame.length);
        if (isAsync(call)) {
            asyncInFlight.decrementAndGet();
        }
        answered.incrementAndGet();
        if (!call.internal()) {
            callsServed.incrementAndGet(); // pings, setup steps and notices do not count towards recycling
        }
        heardFrom(clockNow);
        return call;
    }

    /** The unanswered call with this request id, or null. */
    Call pendingCall(long requestId) {
        return pending.get(requestId);
    }

    /**
     * Sends a frame that answers no request slot (CANCEL, CREDIT, a callback's answer) while the
     * worker is alive. Only a frame the worker is known to be reading for ({@code awaited}: a
     * callback's answer, which its handler waits on) may be written by the calling thread; the
     * others go through the writer's thread, since a worker busy in a handler may not read them
     * for a while and the pipe's room is only known for requests.
     */
    void sendControl(byte[] frame, boolean awaited) {
        WorkerTransport t = transport;
        if (t != null && isAlive()) {
            t.send(frame, awaited ? unansweredBytes.get() + frame.length : Long.MAX_VALUE);
        }
    }

    boolean isPending(Call call) {
        return call.worker() == this && pending.get(call.requestId()) == call;
    }

    boolean hasPending() {
        return !pending.isEmpty();
    }

    /** Every unanswered call, removed: the worker is gone and they get a verdict. */
    List<Call> takeAllPending() {
        List<Call> calls = new ArrayList<>();
        for (Long requestId : List.copyOf(pending.keySet())) {
            Call call = pending.remove(requestId);
            if (call != null) {
                calls.add(call);
            }
        }
        return calls;
    }

    /**
     * True when a call the worker is running (not one waiting in its input) is past its deadline.
     * The worker takes requests in order onto its handler threads, so a call has started once
     * fewer than {@code handlerThreads} earlier unanswered calls hold a thread; calls of
     * {@code async def} handlers hold none (they wait on the worker's event loop). Only a call
     * that holds a thread can keep others from running, so only such a call counts.
     */
    boolean runningPastDeadline(long now) {
        for (Call call : startedCalls()) {
            if (!isAsync(call) && call.pastDeadline(now)) {
                return true;
            }
        }
        return false;
    }

    /** Whether this call has started in the worker (see {@link #runningPastDeadline}). */
    boolean started(Call call) {
        return startedCalls().contains(call);
    }

    /** Its unanswered calls that have started, in the order they were sent. */
    private List<Call> startedCalls() {
        List<Call> unanswered = new ArrayList<>(pending.values());
        unanswered.sort(Comparator.comparingLong(Call::requestId));
        List<Call> started = new ArrayList<>();
        int holdingThreads = 0;
        for (Call call : unanswered) {
            if (holdingThreads >= handlerThreads) {
                break;
            }
            started.add(call);
            if (!isAsync(call)) {
                holdingThreads++;
            }
        }
        return started;
    }

    /**
     * True when every call it was sent is past its deadline by now: nobody it serves can still
     * get an answer, as with async handlers that never finish and hold every slot.
     */
    boolean allPendingPastDeadline(long now) {
        if (pending.isEmpty()) {
            return false;
        }
        for (Call call : pending.values()) {
            if (!call.pastDeadline(now)) {
                return false;
            }
        }
        return inFlight.get() >= inFlightLimit;
    }

    private boolean knownSlow(Call call) {
        return call != null && !isAsync(call) && times.slowerThan(call.command, PIPELINE_WINDOW_NANOS);
    }

    /** The oldest unanswered sync call sent after this id: requests start in id order, so it runs now. */
    private Call nextSyncAfter(long requestId) {
        long end = nextRequestId.get();
        for (long id = requestId + 1; id < end; id++) {
            Call c = pending.get(id);
            if (c != null && !isAsync(c)) {
                return c;
            }
        }
        return null;
    }

    /**
     * Whether the call holds no handler thread in the worker: {@code async def} handlers wait on
     * its event loop, and streams run on a thread of their own there.
     */
    private boolean isAsync(Call call) {
        return call.items != null || asyncCommands.contains(call.command);
    }

    /** The commands its runtime runs as {@code async def} handlers, from its hello. */
    void asyncCommands(java.util.Set<String> commands) {
        asyncCommands = java.util.Set.copyOf(commands);
    }

    /** The latest deadline among unanswered calls, or {@code now} when there are none. */
    long lastPendingDeadline(long now) {
        long last = now;
        for (Call call : pending.values()) {
            if (call.deadlineNanos - last > 0) {
                last = call.deadlineNanos;
            }
        }
        return last;
    }

    /** How calls still pending fail, once it failed; read by senders that raced with the failure. */
    void failWith(Function<Call, PypoolException> verdict) {
        pendingFailure = verdict;
    }

    Function<Call, PypoolException> pendingFailure() {
        return pendingFailure;
    }

    // ---- health --------------------------------------------------------------------------

    void heardFrom(long clockNow) {
        lastReplyNanos = clockNow;
        lastProgressNanos = clockNow;
    }

    long lastReplyNanos() {
        return lastReplyNanos;
    }

    long lastProgressNanos() {
        return lastProgressNanos;
    }

    /** Records a /proc sample; CPU time used since the last one counts as progress. */
    void sampled(ProcFs.Sample sample, long clockNow) {
        if (sample.cpuTicks() != lastCpuTicks) {
            lastCpuTicks = sample.cpuTicks();
            lastProgressNanos = clockNow;
        }
        rssBytes = sample.rssBytes();
    }

    long rssBytes() {
        return rssBytes;
    }

    /** Records that a health check found its process a zombie; true if one had already. */
    boolean seenZombie() {
        boolean before = zombieSeen;
        zombieSeen = true;
        return before;
    }

    void healthProblem(String problem) {
        healthProblem = problem;
    }

    String healthProblem() {
        return healthProblem;
    }

    void setupProblem(String problem) {
        setupProblem = problem;
    }

    String setupProblem() {
        return setupProblem;
    }

    static Thread daemon(String name, Runnable body) {
        Thread t = new Thread(body, name);
        t.setDaemon(true);
        return t;
    }

    @Override
    public String toString() {
        String where = location();
        return "worker " + id + " (pid " + pid() + ", " + state.get()
                + (where.equals("local") || where.equals("not started") ? "" : ", " + where) + ")";
    }
}
