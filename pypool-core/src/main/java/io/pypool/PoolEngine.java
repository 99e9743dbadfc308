package io.pypool;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The pool itself. The call path takes no pool-wide lock: a caller picks the least loaded ready
 * worker and claims one of its in-flight slots with a CAS, or queues (lock-free) when none is
 * free; whoever frees a slot hands it to the next queued call. Starting, replacing and ending
 * workers, deadlines of queued and asynchronous calls, and session expiry run on the pool's own
 * housekeeping thread; processes are started from one long-lived spawner thread, because Linux
 * delivers the workers' parent-death signal when the thread that forked them ends.
 */
final class PoolEngine implements PythonPool {
    private static final Logger LOG = LoggerFactory.getLogger(PythonPool.class);
    private static final long SWEEP_MILLIS = 20;
    private static final long MAX_RESTART_BACKOFF_MILLIS = 10_000;

    private final PoolSettings settings;
    private final String name;
    private final ObjectMapper mapper;
    private final PythonRuntime.Interpreter interpreter;
    private final Path runtimeDir;

    /** Guards changes to the worker set and the startup wait; never taken on the call path. */
    private final Object lifecycle = new Object();
    private volatile Worker[] workers;
    /** Workers taken out of service (hung) that still finish or time out their calls before they are ended. */
    private final List<Worker> retiring = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final AtomicInteger[] consecutiveStartFailures;

    private final ConcurrentLinkedQueue<PendingCall> queue = new ConcurrentLinkedQueue<>();
    private final AtomicInteger queued = new AtomicInteger();
    private final Map<String, SessionEntry> sessions = new ConcurrentHashMap<>();

    private final AtomicInteger workerIds = new AtomicInteger();
    private final AtomicLong restarts = new AtomicLong();
    private final ExecutorService spawner;
    private final ScheduledExecutorService housekeeper;
    private volatile boolean closed;
    private volatile boolean building = true;
    private volatile String buildFailure;
    private final CompletableFuture<Void> closedFuture = new CompletableFuture<>();

    private PoolEngine(PoolSettings settings, PythonRuntime.Interpreter interpreter, Path runtimeDir) {
        this.settings = settings;
        this.name = settings.name();
        this.mapper = settings.objectMapper();
        this.interpreter = interpreter;
        this.runtimeDir = runtimeDir;
        this.workers = new Worker[0];
        this.consecutiveStartFailures = new AtomicInteger[settings.workers()];
        Arrays.setAll(consecutiveStartFailures, i -> new AtomicInteger());
        this.spawner = Executors.newSingleThreadExecutor(r -> daemon(r, "pypool-" + name + "-spawner"));
        this.housekeeper = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "pypool-" + name + "-housekeeper"));
    }

    static PoolEngine start(PoolSettings settings) {
        PythonRuntime.Interpreter interpreter;
        Path runtimeDir;
        try {
            interpreter = PythonRuntime.resolve(settings.pythonExecutable() == null ? "python3" : settings.pythonExecutable());
            runtimeDir = PythonRuntime.unpack();
        } catch (IOException e) {
            throw new PoolStartupException(settings.name(), e.getMessage(), e);
        }
        PoolEngine pool = new PoolEngine(settings, interpreter, runtimeDir);
        pool.startWorkers();
        try {
            pool.awaitStartup();
        } catch (RuntimeException e) {
            pool.close();
            throw e;
        }
        return pool;
    }

    PoolSettings settings() {
        return settings;
    }

    @Override
    public String name() {
        return name;
    }

    // ---- starting and replacing workers ------------------------------------------------------------------

    private void startWorkers() {
        Worker[] initial = new Worker[settings.workers()];
        long now = System.nanoTime();
        for (int slot = 0; slot < initial.length; slot++) {
            initial[slot] = newWorker(slot, now);
        }
        synchronized (lifecycle) {
            workers = initial;
        }
        LOG.info("pool '{}' starting {} workers with {} (Python {}), handler modules {}, run id {}",
                name, initial.length, interpreter.executable(), interpreter.version(), settings.handlerModules(), settings.runId());
        for (Worker w : initial) {
            spawner.execute(() -> spawn(w));
        }
        housekeeper.scheduleWithFixedDelay(guarded(this::sweep), SWEEP_MILLIS, SWEEP_MILLIS, TimeUnit.MILLISECONDS);
        long sessionSweep = Math.max(50, Math.min(settings.sessionIdleTtl().toMillis() / 4, 5_000));
        housekeeper.scheduleWithFixedDelay(guarded(this::expireSessions), sessionSweep, sessionSweep, TimeUnit.MILLISECONDS);
    }

    private Worker newWorker(int slot, long now) {
        return new Worker(this, "w" + workerIds.incrementAndGet(), slot, settings.maxInFlightPerWorker(), now);
    }

    private void spawn(Worker w) {
        synchronized (lifecycle) {
            if (closed) {
                w.end(Worker.State.STOPPED, "the pool closed before it started");
                return;
            }
        }
        w.spawn(processBuilder(w));
    }

    private ProcessBuilder processBuilder(Worker w) {
        List<String> command = new ArrayList<>(List.of(interpreter.executable(), "-m", "pypool.worker",
                "--pool", name, "--worker", w.id, "--run-id", settings.runId(),
                "--parent-pid", Long.toString(ProcessHandle.current().pid()),
                "--concurrency", Integer.toString(settings.maxInFlightPerWorker()),
                "--max-frame-bytes", Integer.toString(settings.maxFrameBytes())));
        for (String module : settings.handlerModules()) {
            command.add("--module");
            command.add(module);
        }
        ProcessBuilder builder = new ProcessBuilder(command);
        Map<String, String> env = builder.environment();
        // N workers each spawning a thread per core for BLAS/OpenMP would starve the machine.
        for (String cap : List.of("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                "NUMEXPR_NUM_THREADS", "VECLIB_MAXIMUM_THREADS")) {
            env.put(cap, "1");
        }
        env.putAll(settings.environment());
        env.put("PYTHONUNBUFFERED", "1");
        StringBuilder path = new StringBuilder(runtimeDir.toString());
        for (Path p : settings.pythonPath()) {
            path.append(java.io.File.pathSeparatorChar).append(p);
        }
        String inherited = settings.environment().getOrDefault("PYTHONPATH", System.getenv("PYTHONPATH"));
        if (inherited != null && !inherited.isEmpty()) {
            path.append(java.io.File.pathSeparatorChar).append(inherited);
        }
        env.put("PYTHONPATH", path.toString());
        return builder;
    }

    private void awaitStartup() {
        long deadline = System.nanoTime() + settings.startupTimeout().toNanos();
        synchronized (lifecycle) {
            try {
                while (true) {
                    if (buildFailure != null) {
                        throw new PoolStartupException(name, buildFailure, null);
                    }
                    long ready = Arrays.stream(workers).filter(Worker::isReady).count();
                    if (ready >= settings.minReadyWorkers()) {
                        building = false;
                        return;
                    }
                    long remaining = deadline - System.nanoTime();
                    if (remaining <= 0) {
                        throw new PoolStartupException(name, ready + " of " + settings.minReadyWorkers()
                                + " required workers were ready after " + settings.startupTimeout().toMillis()
                                + " ms (startupTimeout): " + describeStarting(), null);
                    }
                    TimeUnit.NANOSECONDS.timedWait(lifecycle, remaining);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new PoolStartupException(name, "interrupted while waiting for workers to start", e);
            }
        }
    }

    private String describeStarting() {
        StringBuilder sb = new StringBuilder();
        for (Worker w : workers) {
            if (!w.isReady()) {
                sb.append("\n  ").append(w).append(", stderr: ").append(w.stderrTail(0));
            }
        }
        return sb.toString();
    }

    void onWorkerReady(Worker w, JsonNode hello) {
        consecutiveStartFailures[w.slot].set(0);
        LOG.info("pool '{}': worker {} ready in {} ms (pid {}, Python {})", name, w.id,
                (System.nanoTime() - w.createdNanos) / 1_000_000, w.pid(), hello.path("python").asText());
        synchronized (lifecycle) {
            lifecycle.notifyAll();
        }
        pump(w);
    }

    /**
     * A worker ended without being asked: its process exited, broke the protocol, or failed to
     * start. Everything in flight on it fails now (not at its deadline), queued anonymous calls
     * stay for other workers, and the slot gets a new worker, with backoff if starts keep failing.
     */
    void onWorkerFailed(Worker w, String reason, Throwable cause) {
        boolean wasStarting = w.state() == Worker.State.STARTING;
        if (!w.end(Worker.State.FAILED, reason)) {
            return;
        }
        w.kill(2_000);
        Process p = w.process();
        Integer exit = p != null && !p.isAlive() ? p.exitValue() : null;
        List<String> tail = w.stderrTail(500);
        boolean protocolBroken = cause instanceof FrameCodec.MalformedFrameException;
        String what = reason != null ? reason : describeExit(exit);
        String startupFailure = w.startupFailure();
        if (wasStarting && startupFailure == null && !tail.isEmpty()) {
            startupFailure = String.join("\n", tail);
        }
        failPending(w, call -> protocolBroken
                ? new ProtocolException(name, "call '" + call.command + "' failed: worker " + w.id + " (pid " + w.pid()
                        + ") " + what + "; the worker was ended and is being replaced", cause)
                : new WorkerCrashedException(name, w.id, "call '" + call.command + "' failed: worker " + w.id + " (pid "
                        + w.pid() + ") " + what + " while running it" + stderrSuffix(tail), exit, tail));
        failSessionQueue(w, "worker " + w.id + " " + what);
        if (closed) {
            return;
        }
        if (building && wasStarting) {
            synchronized (lifecycle) {
                buildFailure = "worker " + w.id + " failed to start: " + what
                        + (startupFailure == null ? "" : "\n" + startupFailure);
                lifecycle.notifyAll();
            }
            return;
        }
        if (wasStarting) {
            LOG.warn("pool '{}': worker {} failed to start: {}{}", name, w.id, what,
                    startupFailure == null ? "" : "\n" + startupFailure);
        } else {
            LOG.warn("pool '{}': worker {} (pid {}) {}; replacing it{}", name, w.id, w.pid(), what, stderrSuffix(tail));
        }
        int failures = wasStarting ? consecutiveStartFailures[w.slot].incrementAndGet() : 0;
        long delay = failures <= 1 ? 0 : Math.min(MAX_RESTART_BACKOFF_MILLIS, 100L << Math.min(20, failures - 2));
        scheduleOrRun(() -> replace(w), delay);
    }

    private void scheduleOrRun(Runnable task, long delayMillis) {
        try {
            housekeeper.schedule(guarded(task), delayMillis, TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            // closing: nothing to replace
        }
    }

    private void replace(Worker old) {
        Worker fresh;
        synchronized (lifecycle) {
            Worker[] current = workers;
            if (closed || old.slot >= current.length || current[old.slot] != old) {
                return;
            }
            Worker[] next = current.clone();
            fresh = newWorker(old.slot, System.nanoTime());
            next[old.slot] = fresh;
            workers = next;
        }
        restarts.incrementAndGet();
        try {
            spawner.execute(() -> spawn(fresh));
        } catch (java.util.concurrent.RejectedExecutionException e) {
            fresh.end(Worker.State.STOPPED, "the pool closed before it started");
        }
    }

    /**
     * Takes a worker out of service because a call on it ran past its deadline: it gets no more
     * work and is ended as soon as nothing it still runs is within its deadline. Its replacement
     * starts at once. A late reply from it completes nothing, since its call already failed.
     */
    private void retire(Worker w, String reason) {
        if (!w.transition(Worker.State.READY, Worker.State.DRAINING)) {
            return;
        }
        LOG.warn("pool '{}': worker {} (pid {}) {}; replacing it", name, w.id, w.pid(), reason);
        retiring.add(w);
        failSessionQueue(w, "worker " + w.id + " " + reason + " and is being replaced");
        replace(w);
        finishDrainIfDone(w, System.nanoTime());
    }

    private void finishDrainIfDone(Worker w, long now) {
        if (w.state() != Worker.State.DRAINING) {
            return;
        }
        for (PendingCall call : w.pending.values()) {
            if (!call.pastDeadline(now)) {
                return;
            }
        }
        if (w.end(Worker.State.STOPPED, "retired")) {
            w.kill(2_000);
            failPending(w, call -> new WorkerCrashedException(name, w.id, "call '" + call.command + "' failed: worker "
                    + w.id + " was ended after another call on it hung", null, List.of()));
            retiring.remove(w);
        }
    }

    private void failPending(Worker w, java.util.function.Function<PendingCall, PypoolException> failure) {
        for (Long requestId : List.copyOf(w.pending.keySet())) {
            PendingCall call = w.pending.remove(requestId);
            if (call != null) {
                call.completeExceptionally(failure.apply(call));
            }
        }
    }

    private void failSessionQueue(Worker w, String why) {
        PendingCall call;
        while ((call = w.sessionQueue.poll()) != null) {
            queued.decrementAndGet();
            SessionEntry s = call.session;
            if (s == null) {
                continue; // a close_session notice: the state it would free is gone with the worker
            }
            if (!s.touchedWorker()) {
                reroute(call);
            } else {
                s.end("its worker is gone: " + why);
                call.completeExceptionally(sessionLost(s));
            }
        }
    }

    private void reroute(PendingCall call) {
        try {
            submit(call);
        } catch (RuntimeException e) {
            call.completeExceptionally(e);
        }
    }

    private static String describeExit(Integer exit) {
        if (exit == null) {
            return "closed its output";
        }
        if (exit > 128) {
            int signal = exit - 128;
            return "was killed by signal " + signal + signalName(signal);
        }
        return "exited with code " + exit;
    }

    private static String signalName(int signal) {
        return switch (signal) {
            case 9 -> " (SIGKILL)";
            case 15 -> " (SIGTERM)";
            case 11 -> " (SIGSEGV)";
            case 6 -> " (SIGABRT)";
            case 2 -> " (SIGINT)";
            default -> "";
        };
    }

    private static String stderrSuffix(List<String> tail) {
        return tail.isEmpty() ? "" : "; its last stderr lines:\n  " + String.join("\n  ", tail);
    }

    // ---- the call path ----------------------------------------------------------------------------------

    @Override
    public <T> T call(String command, Object args, Class<T> resultType, CallOptions options) throws InterruptedException {
        return callBlocking(null, command, args, resultType, options);
    }

    @Override
    public <T> CompletableFuture<T> callAsync(String command, Object args, Class<T> resultType, CallOptions options) {
        return callAsync(null, command, args, resultType, options);
    }

    <T> T callBlocking(SessionEntry session, String command, Object args, Class<T> resultType, CallOptions options)
            throws InterruptedException {
        PendingCall call = newCall(session, command, args, options);
        submit(call);
        PendingCall.Reply reply;
        try {
            reply = call.get(call.remainingNanos(System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            onDeadline(call, System.nanoTime());
            reply = outcome(call);
        } catch (ExecutionException e) {
            throw asRuntime(e.getCause());
        } catch (InterruptedException e) {
            abandon(call);
            throw e;
        }
        return decode(reply, call, resultType);
    }

    <T> CompletableFuture<T> callAsync(SessionEntry session, String command, Object args, Class<T> resultType,
                                       CallOptions options) {
        PendingCall call;
        try {
            call = newCall(session, command, args, options);
            submit(call);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
        CompletableFuture<T> result = call.handleAsync((reply, error) -> {
            if (error != null) {
                throw new CompletionException(unwrap(error));
            }
            return decode(reply, call, resultType);
        }, settings.callbackExecutor());
        result.whenComplete((value, error) -> {
            if (error instanceof CancellationException) {
                abandon(call);
            }
        });
        return result;
    }

    private PendingCall newCall(SessionEntry session, String command, Object args, CallOptions options) {
        if (command == null || command.isEmpty()) {
            throw new IllegalArgumentException("command must be a non-empty name");
        }
        if (closed) {
            throw new PoolClosedException(name, "the pool is closed; call '" + command + "' was not run");
        }
        byte[] frame;
        try {
            frame = FrameCodec.encodeRequest(mapper, command, args, session == null ? null : session.id);
        } catch (IOException e) {
            throw new IllegalArgumentException("the arguments of '" + command + "' cannot be written as JSON: "
                    + e.getMessage(), e);
        }
        if (FrameCodec.bodyLength(frame) > settings.maxFrameBytes()) {
            throw new IllegalArgumentException("the arguments of '" + command + "' are " + FrameCodec.bodyLength(frame)
                    + " bytes as JSON, over maxFrameBytes (" + settings.maxFrameBytes() + ")");
        }
        Duration timeout = options.timeoutOrNull() == null ? settings.callTimeout() : options.timeoutOrNull();
        long now = System.nanoTime();
        PendingCall call = new PendingCall(command, session, frame, now, timeout.toNanos());
        if (session != null) {
            session.active.incrementAndGet();
            session.lastUsedNanos = now;
            call.whenComplete((r, e) -> {
                session.lastUsedNanos = System.nanoTime();
                session.active.decrementAndGet();
            });
        }
        return call;
    }

    /** Sends the call to a worker with a free slot, or queues it. */
    private void submit(PendingCall call) {
        if (closed) {
            call.completeExceptionally(new PoolClosedException(name, "the pool is closed; call '" + call.command
                    + "' was not run"));
            return;
        }
        SessionEntry s = call.session;
        if (s == null) {
            Worker w = acquireLeastLoaded();
            if (w != null) {
                send(w, call);
                return;
            }
            if (enqueue(queue, call)) {
                for (Worker ready : workers) {
                    pump(ready);
                }
            }
            return;
        }
        if (s.endedBecause() != null) {
            call.completeExceptionally(sessionLost(s));
            return;
        }
        Worker w = s.pin(this);
        if (w == null) {
            call.completeExceptionally(new SessionLostException(name, s.id, s + " has no worker to run on: "
                    + "every worker of the pool has failed " + stateSummary()));
            return;
        }
        if (!w.isAlive() || w.state() == Worker.State.DRAINING) {
            s.end("its worker " + w.id + " " + (w.failureReason() == null ? "is gone" : w.failureReason()));
            call.completeExceptionally(sessionLost(s));
            return;
        }
        if (w.isReady() && w.tryAcquire()) {
            send(w, call);
            return;
        }
        if (enqueue(w.sessionQueue, call)) {
            pump(w);
        }
    }

    private boolean enqueue(ConcurrentLinkedQueue<PendingCall> target, PendingCall call) {
        if (queued.incrementAndGet() > settings.maxQueuedCalls()) {
            queued.decrementAndGet();
            call.completeExceptionally(new PoolSaturatedException(name, "call '" + call.command
                    + "' rejected: " + settings.maxQueuedCalls() + " calls already wait for a worker (maxQueuedCalls) "
                    + stateSummary()));
            return false;
        }
        target.add(call);
        return true;
    }

    private Worker acquireLeastLoaded() {
        Worker[] ws = workers;
        int n = ws.length;
        for (int attempt = 0; attempt < n; attempt++) {
            Worker best = null;
            int bestLoad = Integer.MAX_VALUE;
            int start = n > 1 ? ThreadLocalRandom.current().nextInt(n) : 0;
            for (int i = 0; i < n; i++) {
                Worker w = ws[(start + i) % n];
                int load = w.inFlight();
                if (load < bestLoad && w.isReady() && w.hasFreeSlot()) {
                    best = w;
                    bestLoad = load;
                }
            }
            if (best == null) {
                return null;
            }
            if (best.tryAcquire()) {
                return best;
            }
        }
        return null;
    }

    /** The worker a new session is pinned to: fewest sessions, then fewest calls in flight. */
    Worker leastLoadedForSession() {
        Worker best = null;
        for (Worker w : workers) {
            if (!w.isReady() && w.state() != Worker.State.STARTING) {
                continue;
            }
            if (best == null || better(w, best)) {
                best = w;
            }
        }
        return best;
    }

    private static boolean better(Worker a, Worker b) {
        if (a.isReady() != b.isReady()) {
            return a.isReady();
        }
        if (a.pinnedSessions() != b.pinnedSessions()) {
            return a.pinnedSessions() < b.pinnedSessions();
        }
        return a.inFlight() < b.inFlight();
    }

    private void send(Worker w, PendingCall call) {
        w.send(call);
        if (!w.isAlive() && w.pending.remove(call.requestId(), call)) {
            // The worker died while this call was being handed to it, and the failure sweep missed
            // it. It never ran, so it may go elsewhere.
            if (call.session == null) {
                reroute(call);
            } else {
                call.completeExceptionally(sessionLost(call.session));
            }
        }
    }

    /** A slot of {@code w} was freed: give it the next queued call, or finish its drain. */
    void onSlotFreed(Worker w) {
        if (w.isReady()) {
            pump(w);
        } else if (w.state() == Worker.State.DRAINING) {
            finishDrainIfDone(w, System.nanoTime());
        }
    }

    /**
     * Moves queued calls onto {@code w} while it has free slots: its own sessions' calls first,
     * then anonymous ones. Both the releasing and the enqueuing side run this after their own
     * change, so a call is never left queued next to a free slot.
     */
    private void pump(Worker w) {
        while (w.isReady()) {
            if (!w.tryAcquire()) {
                return;
            }
            PendingCall next = pollLive(w.sessionQueue);
            if (next == null) {
                next = pollLive(queue);
            }
            if (next == null) {
                w.releaseSlot();
                if (w.sessionQueue.isEmpty() && queue.isEmpty()) {
                    return;
                }
                continue;
            }
            send(w, next);
        }
    }

    private PendingCall pollLive(ConcurrentLinkedQueue<PendingCall> from) {
        PendingCall call;
        while ((call = from.poll()) != null) {
            queued.decrementAndGet();
            if (!call.isDone()) {
                return call;
            }
        }
        return null;
    }

    private void abandon(PendingCall call) {
        if (call.cancel(false)) {
            removeFromQueues(call);
        }
    }

    private void removeFromQueues(PendingCall call) {
        boolean removed = queue.remove(call);
        if (!removed && call.session != null) {
            Worker w = call.session.worker();
            removed = w != null && w.sessionQueue.remove(call);
        }
        if (removed) {
            queued.decrementAndGet();
        }
    }

    /** The call's deadline passed: fail it, and if a worker is running it, take that worker out of service. */
    private void onDeadline(PendingCall call, long now) {
        Worker w = call.worker();
        boolean executing = w != null && w.pending.get(call.requestId()) == call;
        if (!call.isDone()) {
            String where = executing
                    ? "running on worker " + w.id + " (pid " + w.pid() + "); the worker is being replaced so that its "
                    + "late reply reaches nobody"
                    : "waiting for a worker";
            String in = call.session == null ? "" : " in " + call.session;
            if (call.completeExceptionally(new CallTimeoutException(name, "call '" + call.command + "'" + in
                    + " timed out after " + call.elapsedMillis(now) + " ms " + where + " " + stateSummary(), executing))
                    && !executing) {
                removeFromQueues(call);
            }
        }
        if (executing) {
            retire(w, "ran call '" + call.command + "' (request " + call.requestId() + ") past its deadline");
        }
    }

    private PendingCall.Reply outcome(PendingCall call) {
        try {
            return call.join();
        } catch (CompletionException | CancellationException e) {
            throw asRuntime(unwrap(e));
        }
    }

    private <T> T decode(PendingCall.Reply reply, PendingCall call, Class<T> type) {
        if (reply.kind() == FrameCodec.REPLY_OK) {
            try {
                if (type == Void.class || type == void.class) {
                    return null;
                }
                if (type == JsonNode.class) {
                    return type.cast(mapper.readTree(reply.body()));
                }
                return mapper.readValue(reply.body(), type);
            } catch (IOException e) {
                String why = e instanceof com.fasterxml.jackson.core.JsonProcessingException jpe
                        ? jpe.getOriginalMessage() : e.getMessage();
                throw new ResultMappingException(name, "the result of '" + call.command + "' cannot be read as "
                        + type.getName() + ": " + why + "; result: "
                        + abbreviate(FrameCodec.utf8(reply.body())), e);
            }
        }
        JsonNode error;
        try {
            error = mapper.readTree(reply.body());
        } catch (IOException e) {
            throw new ProtocolException(name, "worker " + reply.worker().id + " sent an unreadable error reply to '"
                    + call.command + "': " + abbreviate(FrameCodec.utf8(reply.body())), e);
        }
        String kind = error.path("kind").asText();
        String message = error.path("message").asText();
        String workerId = reply.worker().id;
        switch (kind) {
            case "unknown_command" -> throw new UnknownCommandException(name, call.command, workerId, message);
            case "bad_arguments" -> throw new BadArgumentsException(name, call.command, workerId, message);
            default -> throw new PythonException(name, call.command, workerId, error.path("type").asText("Exception"),
                    message, error.path("traceback").asText(""));
        }
    }

    private static String abbreviate(String s) {
        return s.length() <= 200 ? s : s.substring(0, 200) + "... (" + s.length() + " chars)";
    }

    private static Throwable unwrap(Throwable t) {
        while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }

    private static RuntimeException asRuntime(Throwable t) {
        t = unwrap(t);
        if (t instanceof RuntimeException re) {
            return re;
        }
        if (t instanceof Error err) {
            throw err;
        }
        return new CompletionException(t);
    }

    private SessionLostException sessionLost(SessionEntry s) {
        return new SessionLostException(name, s.id, s + " is no longer usable: " + s.endedBecause()
                + "; open a new session (pool.session(id) gives a fresh one)");
    }

    String stateSummary() {
        Worker[] ws = workers;
        int ready = 0;
        int busy = 0;
        for (Worker w : ws) {
            if (w.isReady()) {
                ready++;
            }
            if (w.inFlight() > 0) {
                busy++;
            }
        }
        return "(workers=" + ws.length + ", ready=" + ready + ", busy=" + busy + ", queued=" + queued.get() + ")";
    }

    // ---- sessions ---------------------------------------------------------------------------------------------

    @Override
    public PythonSession session(String id) {
        if (id == null || id.isEmpty() || id.length() > 256) {
            throw new IllegalArgumentException("session id must have 1 to 256 characters, got '" + id + "'");
        }
        if (closed) {
            throw new PoolClosedException(name, "the pool is closed; no session can be opened");
        }
        return sessions.compute(id, (k, existing) ->
                existing == null || existing.endedBecause() != null ? new SessionEntry(k, this, System.nanoTime()) : existing);
    }

    @Override
    public PythonSession newSession() {
        return session(UUID.randomUUID().toString());
    }

    void closeSession(SessionEntry s, String because) {
        if (!s.end(because)) {
            return;
        }
        sessions.remove(s.id, s);
        Worker w = s.worker();
        if (w == null || !s.touchedWorker() || !w.isAlive() || closed) {
            return;
        }
        // Free the state in Python, in order after the session's earlier calls on that worker.
        try {
            byte[] frame = FrameCodec.encodeRequest(mapper, "close_session", null, s.id);
            PendingCall notice = new PendingCall("close_session", null, frame, System.nanoTime(),
                    settings.callTimeout().toNanos());
            if (w.isReady() && w.tryAcquire()) {
                send(w, notice);
            } else if (enqueue(w.sessionQueue, notice)) {
                pump(w);
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private void expireSessions() {
        long now = System.nanoTime();
        long ttl = settings.sessionIdleTtl().toNanos();
        List<SessionEntry> idle = new ArrayList<>();
        for (SessionEntry s : sessions.values()) {
            if (s.active.get() == 0) {
                if (now - s.lastUsedNanos > ttl) {
                    closeSession(s, "it expired after being idle for " + settings.sessionIdleTtl().toMillis() + " ms");
                } else {
                    idle.add(s);
                }
            }
        }
        int excess = sessions.size() - settings.maxSessions();
        if (excess > 0) {
            idle.sort(Comparator.comparingLong(s -> s.lastUsedNanos));
            for (SessionEntry s : idle.subList(0, Math.min(excess, idle.size()))) {
                closeSession(s, "it was the least recently used when the pool passed maxSessions ("
                        + settings.maxSessions() + ")");
            }
        }
    }

    // ---- housekeeping -----------------------------------------------------------------------------------------

    /** Deadlines of queued and asynchronous calls, abandoned calls on hung workers, and slow starts. */
    private void sweep() {
        long now = System.nanoTime();
        long startupNanos = settings.startupTimeout().toNanos();
        for (Worker w : workers) {
            sweepWorker(w, now);
            if (w.state() == Worker.State.STARTING && now - w.createdNanos > startupNanos) {
                onWorkerFailed(w, "did not become ready within the startup timeout of "
                        + settings.startupTimeout().toMillis() + " ms", null);
            }
        }
        for (Worker w : retiring) {
            sweepWorker(w, now);
            finishDrainIfDone(w, now);
        }
        for (PendingCall call : queue) {
            if (call.pastDeadline(now)) {
                onDeadline(call, now);
            }
        }
    }

    private void sweepWorker(Worker w, long now) {
        for (PendingCall call : w.pending.values()) {
            if (call.pastDeadline(now)) {
                onDeadline(call, now);
            }
        }
        for (PendingCall call : w.sessionQueue) {
            if (call.pastDeadline(now)) {
                onDeadline(call, now);
            }
        }
    }

    private Runnable guarded(Runnable task) {
        return () -> {
            try {
                task.run();
            } catch (RuntimeException e) {
                LOG.error("pool '{}': housekeeping task failed", name, e);
            }
        };
    }

    // ---- stats and closing ------------------------------------------------------------------------------------

    @Override
    public PoolStats stats() {
        List<PoolStats.Worker> list = new ArrayList<>();
        for (Worker w : workers) {
            list.add(new PoolStats.Worker(w.id, w.pid(), w.state().name(), w.inFlight(), w.pinnedSessions(),
                    w.callsServed()));
        }
        return new PoolStats(name, List.copyOf(list), queued.get(), sessions.size(), restarts.get());
    }

    /** Every Python process this pool started that has not been reaped; for tests and diagnostics. */
    List<ProcessHandle> processes() {
        List<ProcessHandle> out = new ArrayList<>();
        for (Worker w : allWorkers()) {
            Process p = w.process();
            if (p != null) {
                out.add(p.toHandle());
            }
        }
        return out;
    }

    private List<Worker> allWorkers() {
        List<Worker> all = new ArrayList<>(Arrays.asList(workers));
        all.addAll(retiring);
        return all;
    }

    @Override
    public void close() {
        synchronized (lifecycle) {
            if (closed) {
                closedFuture.join();
                return;
            }
            closed = true;
            building = false;
            lifecycle.notifyAll();
        }
        try {
            long graceEnd = System.nanoTime() + settings.closeGracePeriod().toNanos();
            while (System.nanoTime() - graceEnd < 0 && (queued.get() > 0 || anyPending())) {
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
            }
            PendingCall call;
            while ((call = queue.poll()) != null) {
                call.completeExceptionally(new PoolClosedException(name, "the pool closed before call '"
                        + call.command + "' got a worker"));
            }
            List<Worker> all = allWorkers();
            for (Worker w : all) {
                w.end(Worker.State.STOPPED, "the pool closed");
                while ((call = w.sessionQueue.poll()) != null) {
                    call.completeExceptionally(new PoolClosedException(name, "the pool closed before call '"
                            + call.command + "' got a worker"));
                }
                failPending(w, c -> new PoolClosedException(name, "the pool closed while call '" + c.command
                        + "' was still running on worker " + w.id + " (close grace period "
                        + settings.closeGracePeriod().toMillis() + " ms passed)"));
                w.closeInput();
            }
            stopProcesses(all);
            spawner.shutdown();
            spawner.awaitTermination(30, TimeUnit.SECONDS);
            stopProcesses(allWorkers()); // a spawn that raced with close
            housekeeper.shutdownNow();
            for (Worker w : allWorkers()) {
                w.joinThreads(2_000);
            }
            LOG.info("pool '{}' closed", name);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            for (Worker w : allWorkers()) {
                w.kill(0);
            }
        } finally {
            closedFuture.complete(null);
        }
    }

    private boolean anyPending() {
        for (Worker w : allWorkers()) {
            if (!w.pending.isEmpty()) {
                return true;
            }
        }
        return false;
    }

    /** End of input first (a clean exit), then TERM, then KILL, waiting a moment between each. */
    private static void stopProcesses(List<Worker> all) throws InterruptedException {
        List<Process> alive = new ArrayList<>();
        for (Worker w : all) {
            Process p = w.process();
            if (p != null && p.isAlive()) {
                alive.add(p);
            }
        }
        if (!awaitExit(alive, 2_000)) {
            alive.forEach(Process::destroy);
            if (!awaitExit(alive, 2_000)) {
                for (Process p : alive) {
                    p.descendants().forEach(ProcessHandle::destroyForcibly);
                    p.destroyForcibly();
                }
                awaitExit(alive, 10_000);
            }
        }
    }

    private static boolean awaitExit(List<Process> processes, long millis) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        for (Process p : processes) {
            long left = end - System.nanoTime();
            if (left <= 0 || !p.waitFor(left, TimeUnit.NANOSECONDS)) {
                return processes.stream().noneMatch(Process::isAlive);
            }
        }
        return true;
    }

    private static Thread daemon(Runnable r, String threadName) {
        Thread t = new Thread(r, threadName);
        t.setDaemon(true);
        return t;
    }

    @Override
    public String toString() {
        return "PythonPool[" + name + " " + stateSummary() + "]";
    }
}
