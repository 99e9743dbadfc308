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
    private final PoolClock clock;
    /** On the pool's clock: when the health check and the session sweep last ran. */
    private long lastHealthCheck;
    private long lastSessionSweep;
    private final String name;
    private final ObjectMapper mapper;
    private final PythonRuntime.Interpreter interpreter;
    private final Path runtimeDir;

    /** Guards changes to the worker set and the startup wait; never taken on the call path. */
    private final Object lifecycle = new Object();
    private volatile Worker[] workers;
    /** Workers taken out of service (hung) that still finish or time out their calls before they are ended. */
    private final List<Worker> retiring = new java.util.concurrent.CopyOnWriteArrayList<>();
    /** Every worker whose process has started and not yet exited, whatever its state: what close() must end. */
    private final java.util.Set<Worker> withProcess = ConcurrentHashMap.newKeySet();
    private final AtomicInteger[] consecutiveStartFailures;
    /** Per slot: why it was given up after too many failed starts, or null. */
    private final String[] givenUp;
    /** Workers waiting for a start slot (at most maxConcurrentStarts start at once); guarded by lifecycle. */
    private final java.util.ArrayDeque<Worker> waitingToStart = new java.util.ArrayDeque<>();
    private int startsInFlight;

    private final ConcurrentLinkedQueue<PendingCall> queue = new ConcurrentLinkedQueue<>();
    private final AtomicInteger queued = new AtomicInteger();
    private final AtomicInteger spinners = new AtomicInteger();
    private static final int MAX_SPINNERS = Math.max(1, Runtime.getRuntime().availableProcessors() / 2);
    private final Map<String, SessionEntry> sessions = new ConcurrentHashMap<>();

    /** Steps every worker runs after hello and before its first call, by key, in the order first set. */
    private final Map<String, SetupStep> workerSetup = new java.util.LinkedHashMap<>();

    private record SetupStep(String command, Object args) {}

    private final java.util.ArrayDeque<String> incidents = new java.util.ArrayDeque<>();
    private static final int MAX_INCIDENTS = 20;
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
        this.clock = settings.clock();
        this.lastHealthCheck = clock.nanoTime();
        this.lastSessionSweep = lastHealthCheck;
        this.mapper = settings.objectMapper();
        this.interpreter = interpreter;
        this.runtimeDir = runtimeDir;
        this.workers = new Worker[0];
        this.consecutiveStartFailures = new AtomicInteger[settings.workers()];
        Arrays.setAll(consecutiveStartFailures, i -> new AtomicInteger());
        this.givenUp = new String[settings.workers()];
        this.spawner = Executors.newSingleThreadExecutor(r -> Worker.daemon("pypool-" + name + "-spawner", r));
        this.housekeeper = Executors.newSingleThreadScheduledExecutor(r -> Worker.daemon("pypool-" + name + "-housekeeper", r));
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
        if (settings.reapOrphans()) {
            OrphanReaper.reap(settings.name());
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
        long now = clock.nanoTime();
        for (int slot = 0; slot < initial.length; slot++) {
            initial[slot] = newWorker(slot, now);
        }
        synchronized (lifecycle) {
            workers = initial;
        }
        LOG.info("pool '{}' starting {} workers with {} (Python {}), handler modules {}, run id {}",
                name, initial.length, interpreter.executable(), interpreter.version(), settings.handlerModules(), settings.runId());
        for (Worker w : initial) {
            requestStart(w);
        }
        housekeeper.scheduleWithFixedDelay(guarded(this::tick), SWEEP_MILLIS, SWEEP_MILLIS, TimeUnit.MILLISECONDS);
    }

    private Worker newWorker(int slot, long now) {
        return new Worker(this, "w" + workerIds.incrementAndGet(), slot, settings.maxInFlightPerWorker(), now);
    }

    private void requestStart(Worker w) {
        synchronized (lifecycle) {
            waitingToStart.add(w);
        }
        startWaiting();
    }

    /** Starts waiting workers while fewer than maxConcurrentStarts are starting. */
    private void startWaiting() {
        List<Worker> go = new ArrayList<>();
        synchronized (lifecycle) {
            while (startsInFlight < settings.maxConcurrentStarts() && !waitingToStart.isEmpty()) {
                Worker w = waitingToStart.poll();
                if (w.state() == Worker.State.STARTING && !closed) {
                    startsInFlight++;
                    go.add(w);
                }
            }
        }
        for (Worker w : go) {
            try {
                spawner.execute(() -> spawn(w));
            } catch (java.util.concurrent.RejectedExecutionException e) {
                w.end(Worker.State.STOPPED, "the pool closed before it started");
            }
        }
    }

    private void startSettled(Worker w) {
        if (w.startSettled.compareAndSet(false, true)) {
            synchronized (lifecycle) {
                startsInFlight--;
            }
            startWaiting();
        }
    }

    private void spawn(Worker w) {
        synchronized (lifecycle) {
            if (closed) {
                w.end(Worker.State.STOPPED, "the pool closed before it started");
                return;
            }
        }
        w.spawn(processBuilder(w));
        Process p = w.process();
        if (p != null) {
            withProcess.add(w);
            p.onExit().thenRun(() -> withProcess.remove(w));
        }
    }

    private ProcessBuilder processBuilder(Worker w) {
        List<String> command = new ArrayList<>(List.of(interpreter.executable(), "-m", "pypool.worker",
                "--pool", name, "--worker", w.id, "--run-id", settings.runId(),
                "--parent-pid", Long.toString(ProcessHandle.current().pid()),
                "--concurrency", Integer.toString(settings.handlerThreads()),
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
                    List<String> abandoned = Arrays.stream(givenUp).filter(java.util.Objects::nonNull).toList();
                    if (abandoned.size() > settings.workers() - settings.minReadyWorkers()) {
                        throw new PoolStartupException(name, "too few workers can start to reach minReadyWorkers ("
                                + settings.minReadyWorkers() + "): " + String.join("; ", abandoned), null);
                    }
                    long remaining = deadline - System.nanoTime();
                    if (remaining <= 0) {
                        throw new PoolStartupException(name, ready + " of " + settings.minReadyWorkers()
                                + " required workers were ready within the startup timeout of "
                                + settings.startupTimeout().toMillis() + " ms: " + describeStarting(), null);
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

    /** The worker said hello: run the setup steps, in order, before it takes calls. */
    void onWorkerHello(Worker w, JsonNode hello) {
        List<SetupStep> steps;
        synchronized (workerSetup) {
            steps = List.copyOf(workerSetup.values());
        }
        runSetup(w, hello, steps, 0);
    }

    private void runSetup(Worker w, JsonNode hello, List<SetupStep> steps, int next) {
        if (next == steps.size()) {
            if (w.transition(Worker.State.STARTING, Worker.State.READY)) {
                onWorkerReady(w, hello);
            }
            return;
        }
        SetupStep step = steps.get(next);
        PendingCall call = targetedCall(step.command(), step.args(), null, settings.startupTimeout().toNanos());
        if (!w.tryAcquire()) {
            onWorkerFailed(w, "had no free slot for its setup step '" + step.command() + "'", null);
            return;
        }
        send(w, call);
        call.whenComplete((reply, error) -> {
            if (error == null && reply.kind() == FrameCodec.REPLY_OK) {
                runSetup(w, hello, steps, next + 1);
            } else {
                String why;
                if (error != null) {
                    why = unwrap(error).getMessage();
                } else {
                    try {
                        decode(reply, call, JsonNode.class);
                        why = "an unreadable reply";
                    } catch (PythonException e) {
                        why = e.pythonType() + ": " + e.pythonMessage();
                    } catch (RuntimeException e) {
                        why = e.getMessage();
                    }
                }
                onWorkerFailed(w, "failed its setup step '" + step.command() + "': " + why, null);
            }
        });
    }

    /**
     * A pool-internal call for one chosen worker (setup steps, pings, close_session notices):
     * not idempotent, owned by no session entry, so it never triggers routing or restores.
     */
    private PendingCall targetedCall(String command, Object args, String sessionId, long timeoutNanos) {
        try {
            return new PendingCall(command, null, FrameCodec.encodeRequest(mapper, command, args, sessionId),
                    System.nanoTime(), timeoutNanos, false, false);
        } catch (IOException e) {
            throw new IllegalArgumentException("the arguments of '" + command + "' cannot be written as JSON: "
                    + e.getMessage(), e);
        }
    }

    @Override
    public CompletableFuture<Void> configureWorkers(String key, String command, Object args) {
        java.util.Objects.requireNonNull(key, "key");
        if (command == null || command.isEmpty()) {
            throw new IllegalArgumentException("command must be a non-empty name");
        }
        if (closed) {
            throw new PoolClosedException(name, "the pool is closed; workers cannot be configured");
        }
        targetedCall(command, args, null, 1); // fails now, on the caller's thread, if args are not JSON
        synchronized (workerSetup) {
            workerSetup.put(key, new SetupStep(command, args));
        }
        // Workers that start from now on run it during setup; the live ones get it now, through
        // their own queue, so it runs after what they already accepted and before what comes next.
        List<PendingCall> runs = new ArrayList<>();
        for (Worker w : workers) {
            if (!w.isAlive() || w.state() == Worker.State.DRAINING) {
                continue;
            }
            PendingCall call = targetedCall(command, args, null, settings.callTimeout().toNanos());
            runs.add(call);
            queued.incrementAndGet();
            w.sessionQueue.add(call);
            pump(w);
        }
        // A worker that dies meanwhile does not fail the whole: its replacement runs the step at setup.
        List<CompletableFuture<PendingCall.Reply>> settled = runs.stream()
                .map(run -> run.exceptionally(error -> null)).toList();
        return CompletableFuture.allOf(settled.toArray(CompletableFuture[]::new)).thenApply(done -> {
            for (int i = 0; i < runs.size(); i++) {
                PendingCall.Reply reply = settled.get(i).join();
                if (reply != null && reply.kind() != FrameCodec.REPLY_OK) {
                    decode(reply, runs.get(i), JsonNode.class); // throws the typed error the worker reported
                }
            }
            return null;
        });
    }

    void onWorkerReady(Worker w, JsonNode hello) {
        consecutiveStartFailures[w.slot].set(0);
        startSettled(w);
        LOG.info("pool '{}': worker {} ready in {} ms (pid {}, Python {})", name, w.id,
                (System.nanoTime() - w.spawnedNanos) / 1_000_000, w.pid(), hello.path("python").asText());
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
        if (w.spawnedNanos != 0) {
            startSettled(w);
        }
        w.kill(2_000);
        Process p = w.process();
        Integer exit = p != null && !p.isAlive() ? p.exitValue() : null;
        // The process is gone, so its stderr ends soon; on a starved machine the drain thread may need a moment.
        List<String> tail = w.stderrTail(2_000);
        boolean protocolBroken = cause instanceof FrameCodec.MalformedFrameException;
        String what = reason != null ? reason : describeExit(exit);
        String startupFailure = w.startupFailure();
        if (wasStarting && startupFailure == null && !tail.isEmpty()) {
            startupFailure = String.join("\n", tail);
        }
        java.util.function.Function<PendingCall, PypoolException> verdict = call -> protocolBroken
                ? new ProtocolException(name, "call '" + call.command + "' failed: worker " + w.id + " (pid " + w.pid()
                        + ") " + what + "; the worker was ended and is being replaced", cause)
                : new WorkerCrashedException(name, w.id, "call '" + call.command + "' failed: worker " + w.id + " (pid "
                        + w.pid() + ") " + what + " while running it" + stderrSuffix(w, tail), exit, tail);
        failPendingOrRetry(w, verdict);
        failSessionQueue(w, "worker " + w.id + " " + what);
        if (closed) {
            return;
        }
        if (building && wasStarting && settings.minReadyWorkers() == settings.workers()) {
            // Every worker is required and this one could not start: the same would happen again.
            synchronized (lifecycle) {
                buildFailure = "worker " + w.id + " failed to start: " + what
                        + (startupFailure == null ? "" : "\n" + startupFailure);
                lifecycle.notifyAll();
            }
            return;
        }
        incident("worker " + w.id + " (pid " + w.pid() + ") " + what + (wasStarting ? " while starting" : ""));
        if (wasStarting) {
            LOG.warn("pool '{}': worker {} failed to start: {}{}", name, w.id, what,
                    startupFailure == null ? "" : "\n" + startupFailure);
        } else {
            LOG.warn("pool '{}': worker {} (pid {}) {}; replacing it{}", name, w.id, w.pid(), what, stderrSuffix(tail));
        }
        int failures = wasStarting ? consecutiveStartFailures[w.slot].incrementAndGet() : 0;
        if (failures >= settings.maxConsecutiveStartFailures()) {
            String why = "gave up on slot " + w.slot + " after " + failures + " failed starts in a row"
                    + " (maxConsecutiveStartFailures); the last: worker " + w.id + " " + what
                    + (startupFailure == null ? "" : ": " + firstLine(startupFailure));
            givenUp[w.slot] = why;
            incident(why);
            LOG.error("pool '{}': {}", name, why);
            synchronized (lifecycle) {
                lifecycle.notifyAll(); // a build waiting for this slot can stop waiting
            }
            return;
        }
        long delay = failures <= 1 ? 0 : Math.min(MAX_RESTART_BACKOFF_MILLIS, 100L << Math.min(20, failures - 2));
        String replacing = "replaces " + w.id + ", which " + what;
        scheduleOrRun(() -> replace(w, replacing), delay);
    }

    private void incident(String what) {
        synchronized (incidents) {
            if (incidents.size() == MAX_INCIDENTS) {
                incidents.removeFirst();
            }
            incidents.addLast(java.time.Instant.now() + " " + what);
        }
    }

    private void scheduleOrRun(Runnable task, long delayMillis) {
        try {
            housekeeper.schedule(guarded(task), delayMillis, TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            // closing: nothing to replace
        }
    }

    private static String firstLine(String text) {
        String last = text.strip();
        // A Python traceback says what happened on its last line.
        int nl = last.lastIndexOf('\n');
        return nl < 0 ? last : last.substring(nl + 1);
    }

    private void replace(Worker old, String cause) {
        Worker fresh;
        synchronized (lifecycle) {
            Worker[] current = workers;
            if (closed || old.slot >= current.length || current[old.slot] != old) {
                return;
            }
            Worker[] next = current.clone();
            fresh = newWorker(old.slot, clock.nanoTime());
            fresh.replaces = cause;
            next[old.slot] = fresh;
            workers = next;
        }
        restarts.incrementAndGet();
        requestStart(fresh);
    }

    /**
     * Takes a worker out of service because a call on it ran past its deadline: it gets no more
     * work and is ended as soon as nothing it still runs is within its deadline. Its replacement
     * starts at once. A late reply from it completes nothing, since its call already failed.
     */
    private void retire(Worker w, String reason) {
        retire(w, reason, false);
    }

    /**
     * Takes a worker out of service: it gets no new work and a replacement starts at once. A
     * gentle retirement (recycling) ends it with end of input once its calls are done; otherwise
     * (a call hung past its deadline) it is killed as soon as nothing it runs is within its deadline.
     */
    private void retire(Worker w, String reason, boolean gentle) {
        w.gentleDrain = gentle;
        if (!w.transition(Worker.State.READY, Worker.State.DRAINING)) {
            return;
        }
        incident("worker " + w.id + " (pid " + w.pid() + ") " + (gentle ? "recycled: " : "retired: ") + reason);
        if (gentle) {
            LOG.info("pool '{}': recycling worker {} (pid {}): {}", name, w.id, w.pid(), reason);
        } else {
            LOG.warn("pool '{}': worker {} (pid {}) {}; replacing it", name, w.id, w.pid(), reason);
        }
        retiring.add(w);
        failSessionQueue(w, "worker " + w.id + " " + reason + " and is being replaced");
        replace(w, "replaces " + w.id + ", which " + reason);
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
            retiring.remove(w);
            if (w.gentleDrain && w.pending.isEmpty()) {
                w.closeInput(); // a clean exit; killed later only if it does not go
                scheduleOrRun(() -> w.kill(0), 5_000);
                return;
            }
            w.kill(2_000);
            failPendingOrRetry(w, call -> new WorkerCrashedException(name, w.id, "call '" + call.command + "' failed: worker "
                    + w.id + " was ended after another call on it hung", null, List.of()));
        }
    }

    /** Fails what was running on a dead worker, except idempotent calls, which get one more try elsewhere. */
    private void failPendingOrRetry(Worker w, java.util.function.Function<PendingCall, PypoolException> failure) {
        w.pendingFailure = failure;
        long now = System.nanoTime();
        for (Long requestId : List.copyOf(w.pending.keySet())) {
            PendingCall call = w.pending.remove(requestId);
            if (call == null) {
                continue;
            }
            boolean sessionCanMove = call.session == null || call.session.restorable();
            if (call.idempotent && !call.retried && !call.isDone() && !call.pastDeadline(now) && sessionCanMove) {
                call.retried = true;
                LOG.info("pool '{}': retrying idempotent call '{}' after worker {} died under it", name, call.command, w.id);
                reroute(call);
            } else {
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
                // A close_session notice or a configureWorkers run: what it would change is gone
                // with the worker (a replacement runs the setup steps anyway).
                call.completeExceptionally(new WorkerCrashedException(name, w.id, "worker " + w.id + " ended before call '"
                        + call.command + "' ran: " + why, null, List.of()));
                continue;
            }
            if (!s.touchedWorker() || s.restorable()) {
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

    private static String stderrSuffix(Worker w, List<String> tail) {
        String trouble = w.stderrDrainTrouble;
        return stderrSuffix(tail) + (trouble == null ? "" : " (" + trouble + ")");
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
        spinForReply(call);
        PendingCall.Reply reply;
        try {
            reply = call.get(call.remainingNanos(System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            onDeadline(call, System.nanoTime());
            reply = outcome(call);
        } catch (ExecutionException e) {
            throw withCallSite(asRuntime(e.getCause()));
        } catch (InterruptedException e) {
            abandon(call);
            throw e;
        }
        return decode(reply, call, resultType);
    }

    /**
     * With {@code callerSpin} set, a blocking caller whose call went straight to a worker watches
     * for the reply for a moment before it parks: a fast reply then costs no thread wake-up.
     * Only while nothing queues and at most one spinner per two cores, so spinning never takes
     * the CPU from the workers it waits for.
     */
    private void spinForReply(PendingCall call) {
        long spin = settings.callerSpin().toNanos();
        if (spin == 0 || call.worker() == null || queued.get() != 0) {
            return;
        }
        if (spinners.incrementAndGet() <= MAX_SPINNERS) {
            long until = System.nanoTime() + spin;
            while (!call.isDone() && System.nanoTime() - until < 0) {
                Thread.onSpinWait();
            }
        }
        spinners.decrementAndGet();
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
        PendingCall call = new PendingCall(command, session, frame, System.nanoTime(), timeout.toNanos(),
                options.isIdempotent(), false);
        if (session != null) {
            session.active.incrementAndGet();
            session.lastUsedNanos = clock.nanoTime();
            call.whenComplete((r, e) -> {
                session.lastUsedNanos = clock.nanoTime();
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
        if (!call.restore) {
            CompletableFuture<PendingCall.Reply> gate = s.restoreGate(this);
            if (gate != null) {
                gate.whenComplete((reply, error) -> {
                    if (error == null && reply.kind() == FrameCodec.REPLY_OK) {
                        submit(call);
                    } else {
                        call.completeExceptionally(sessionLost(s));
                    }
                });
                return;
            }
        }
        if (w == null) {
            call.completeExceptionally(new SessionLostException(name, s.id, s + " has no worker to run on: "
                    + "every worker of the pool has failed " + stateSummary()));
            return;
        }
        if (!w.isAlive() || w.state() == Worker.State.DRAINING) {
            s.end("its worker " + w.id + " " + (w.failureReason() == null ? "was taken out of service" : w.failureReason()));
            call.completeExceptionally(sessionLost(s));
            return;
        }
        if (w.isReady() && w.tryAcquire()) {
            send(w, call);
            return;
        }
        if (enqueue(w.sessionQueue, call)) {
            pump(w);
            if (w.state() == Worker.State.DRAINING || !w.isAlive()) {
                // It left service between our check and the enqueue, after its queue was emptied.
                failSessionQueue(w, "worker " + w.id + " was taken out of service");
            }
        }
    }

    /** Sends the session's restore step to the worker it now lives on; its other calls wait for it. */
    PendingCall newRestoreCall(SessionEntry s, String command, Object args) {
        byte[] frame;
        try {
            frame = FrameCodec.encodeRequest(mapper, command, args, s.id);
        } catch (IOException e) {
            throw new IllegalArgumentException("the restore arguments of " + s + " cannot be written as JSON", e);
        }
        PendingCall restore = new PendingCall(command, s, frame, System.nanoTime(), settings.callTimeout().toNanos(),
                false, true);
        restore.whenComplete((reply, error) -> {
            String problem = error != null ? unwrap(error).getMessage()
                    : reply.kind() == FrameCodec.REPLY_OK ? null : FrameCodec.utf8(reply.body());
            if (problem != null) {
                s.end("its restore step '" + command + "' failed: " + problem);
                LOG.warn("pool '{}': {} could not be restored: {}", name, s, problem);
            } else {
                LOG.info("pool '{}': {} restored on worker {}", name, s, reply.worker().id);
            }
        });
        submit(restore);
        return restore;
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
        if (!w.isAlive()) {
            // The worker ended while this call was handed to it. If its failure sweep already ran,
            // it missed this call: sweep again with the same verdict. If not, that sweep will see it.
            java.util.function.Function<PendingCall, PypoolException> verdict = w.pendingFailure;
            if (verdict != null) {
                failPendingOrRetry(w, verdict);
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
            } catch (com.fasterxml.jackson.core.exc.StreamReadException e) {
                throw brokenReply(reply, call, e);
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
            throw brokenReply(reply, call, e);
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

    /** A reply that is not JSON: the worker's output cannot be trusted, so it is replaced. */
    private ProtocolException brokenReply(PendingCall.Reply reply, PendingCall call, Exception e) {
        Worker w = reply.worker();
        String what = "sent a reply to '" + call.command + "' that is not valid JSON: " + abbreviate(FrameCodec.utf8(reply.body()));
        onWorkerFailed(w, what, new FrameCodec.MalformedFrameException(what));
        return new ProtocolException(name, "worker " + w.id + " (pid " + w.pid() + ") " + what
                + "; the worker was ended and is being replaced", e);
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

    /**
     * A failure detected on another thread (a worker's reader, the housekeeper) carries that
     * thread's stack; the caller's own stack is added as a suppressed exception so that logs show
     * where the call was made.
     */
    private static RuntimeException withCallSite(RuntimeException e) {
        if (e instanceof PypoolException) {
            e.addSuppressed(new CallSite());
        }
        return e;
    }

    /** Not an error: the stack of the thread that made a failed call. */
    private static final class CallSite extends Exception {
        CallSite() {
            super("the failed call was made here, on thread " + Thread.currentThread().getName());
        }
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
        String why = s.endedBecause() == null ? "its worker " + (s.worker() == null ? "" : s.worker().id + " ")
                + "is gone" : s.endedBecause();
        return new SessionLostException(name, s.id, s + " is no longer usable: " + why
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
        SessionEntry entry = sessions.compute(id, (k, existing) ->
                existing == null || existing.endedBecause() != null ? new SessionEntry(k, this, clock.nanoTime()) : existing);
        if (sessions.size() > settings.maxSessions()) {
            // Over quota: evict in the background now rather than at the next periodic sweep.
            try {
                housekeeper.execute(guarded(this::expireSessions));
            } catch (java.util.concurrent.RejectedExecutionException ignored) {
                // closing
            }
        }
        return entry;
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
        PendingCall notice = targetedCall("close_session", null, s.id, settings.callTimeout().toNanos());
        if (w.isReady() && w.tryAcquire()) {
            send(w, notice);
        } else if (enqueue(w.sessionQueue, notice)) {
            pump(w);
        }
    }

    private void expireSessions() {
        long now = clock.nanoTime();
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

    /**
     * The housekeeping heartbeat, every 20 ms of real time: deadlines and slow starts always; the
     * health check and the session sweep when their interval has passed on the pool's clock.
     */
    private void tick() {
        sweep();
        long now = clock.nanoTime();
        if (now - lastHealthCheck >= settings.healthCheckInterval().toNanos()) {
            lastHealthCheck = now;
            checkHealth();
        }
        long sessionSweep = Math.max(TimeUnit.MILLISECONDS.toNanos(50),
                Math.min(settings.sessionIdleTtl().toNanos() / 4, TimeUnit.SECONDS.toNanos(5)));
        if (now - lastSessionSweep >= sessionSweep) {
            lastSessionSweep = now;
            expireSessions();
        }
    }

    /** Deadlines of queued and asynchronous calls, abandoned calls on hung workers, and slow starts. */
    private void sweep() {
        long now = System.nanoTime();
        long startupNanos = settings.startupTimeout().toNanos();
        for (Worker w : workers) {
            sweepWorker(w, now);
            if (w.state() == Worker.State.STARTING && w.spawnedNanos != 0 && now - w.spawnedNanos > startupNanos) {
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

    /**
     * The health check, every healthCheckInterval: a stopped or zombie process is failed at once;
     * an idle worker is pinged (a ping past its deadline retires it, like any call); a busy worker
     * is judged by progress (finished calls or CPU time), never by ping; recycling limits are applied.
     */
    private void checkHealth() {
        long now = clock.nanoTime();
        long interval = settings.healthCheckInterval().toNanos();
        for (Worker w : workers) {
            if (!w.isReady()) {
                continue;
            }
            ProcFs.Sample sample = ProcFs.sample(w.pid());
            if (sample != null) {
                if (sample.stopped()) {
                    onWorkerFailed(w, "was found stopped (process state " + sample.state()
                            + ": SIGSTOP or a debugger) by the health check", null);
                    continue;
                }
                if (sample.state() == 'Z') {
                    onWorkerFailed(w, "was found a zombie by the health check", null);
                    continue;
                }
                if (sample.cpuTicks() != w.lastCpuTicks) {
                    w.lastCpuTicks = sample.cpuTicks();
                    w.lastProgressNanos = now;
                }
                w.rssBytes = sample.rssBytes();
            }
            if (w.inFlight() == 0) {
                w.healthProblem = null;
                if (now - w.lastReplyNanos >= interval) {
                    ping(w, interval);
                }
            } else if (now - w.lastProgressNanos > 2 * interval) {
                w.healthProblem = "worker " + w.id + " (pid " + w.pid() + ") has been busy for "
                        + (now - w.lastProgressNanos) / 1_000_000 + " ms without progress (no call finished, no CPU used)";
            } else {
                w.healthProblem = null;
            }
            String recycle = recycleReason(w, now);
            if (recycle != null) {
                recycle(w, recycle);
            }
        }
    }

    private void ping(Worker w, long timeoutNanos) {
        PendingCall ping = targetedCall("ping", null, null, Math.max(timeoutNanos, TimeUnit.SECONDS.toNanos(1)));
        if (w.tryAcquire()) {
            send(w, ping);
        }
    }

    private String recycleReason(Worker w, long now) {
        if (settings.recycleAfterCalls() > 0 && w.callsServed() >= settings.recycleAfterCalls()) {
            return "it served " + w.callsServed() + " calls (recycleAfterCalls " + settings.recycleAfterCalls() + ")";
        }
        Duration maxAge = settings.recycleAfterAge();
        if (maxAge != null) {
            // +-5 % per worker, fixed by its id, so that workers started together do not all go together.
            double jitter = 0.95 + 0.1 * ((w.id.hashCode() & 0x7fffffff) % 1000) / 1000.0;
            long limit = (long) (maxAge.toNanos() * jitter);
            if (now - w.createdNanos >= limit) {
                return "it reached its maximum age of " + limit / 1_000_000 + " ms (recycleAfterAge " + maxAge.toMillis() + " ms +-5 %)";
            }
        }
        if (settings.recycleAboveRssBytes() > 0 && w.rssBytes > settings.recycleAboveRssBytes()) {
            return "its resident memory of " + w.rssBytes / (1 << 20) + " MiB passed recycleAboveRssBytes ("
                    + settings.recycleAboveRssBytes() / (1 << 20) + " MiB)";
        }
        return null;
    }

    /**
     * Replaces a worker without failing a call: it gets no new work, finishes what it runs, then
     * gets end of input. Postponed while it holds sessions that could not be rebuilt elsewhere.
     */
    private void recycle(Worker w, String reason) {
        long stranded = sessions.values().stream()
                .filter(s -> s.worker() == w && s.touchedWorker() && !s.restorable()).count();
        if (stranded > 0) {
            w.healthProblem = "worker " + w.id + " is due for recycling (" + reason + ") but holds " + stranded
                    + " session(s) without a restore step; it is kept until they end";
            return;
        }
        retire(w, reason, true);
    }

    @Override
    public PoolHealth health() {
        List<String> problems = new ArrayList<>();
        if (closed) {
            return new PoolHealth(PoolHealth.Status.UNHEALTHY, List.of("pool '" + name + "' is closed"), recentIncidents());
        }
        int ready = 0;
        long now = System.nanoTime();
        for (Worker w : workers) {
            if (w.isReady()) {
                ready++;
            } else if (givenUp[w.slot] != null) {
                problems.add(givenUp[w.slot]);
                continue;
            } else if (w.state() == Worker.State.STARTING && !building) {
                problems.add("worker " + w.id + " is starting (" + (w.spawnedNanos == 0 ? "waiting for a start slot"
                        : (now - w.spawnedNanos) / 1_000_000 + " ms so far") + ")"
                        + (w.replaces == null ? "" : "; it " + w.replaces));
            } else if (!w.isAlive()) {
                problems.add("worker " + w.id + " " + w.failureReason() + "; a replacement is scheduled");
            }
            String problem = w.healthProblem;
            if (problem != null) {
                problems.add(problem);
            }
        }
        for (Worker w : retiring) {
            if (!w.gentleDrain) {
                problems.add("worker " + w.id + " (pid " + w.pid() + ") is being ended: " + w.failureReason());
            }
        }
        PoolHealth.Status status = ready == 0 ? PoolHealth.Status.UNHEALTHY
                : problems.isEmpty() ? PoolHealth.Status.HEALTHY : PoolHealth.Status.DEGRADED;
        if (ready == 0) {
            problems.add(0, "no worker is ready to serve " + stateSummary());
        }
        return new PoolHealth(status, List.copyOf(problems), recentIncidents());
    }

    private List<String> recentIncidents() {
        synchronized (incidents) {
            return List.copyOf(incidents);
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
        return new PoolStats(name, settings.runId(), List.copyOf(list), queued.get(), sessions.size(), restarts.get());
    }

    /** The current workers, the retiring ones, and any other whose process has not exited yet. */
    private List<Worker> allWorkers() {
        java.util.Set<Worker> all = new java.util.LinkedHashSet<>(Arrays.asList(workers));
        all.addAll(retiring);
        all.addAll(withProcess);
        return new ArrayList<>(all);
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
                failPendingOrRetry(w, c -> new PoolClosedException(name, "the pool closed while call '" + c.command
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


    @Override
    public String toString() {
        return "PythonPool[" + name + " " + stateSummary() + "]";
    }
}
