package io.pypool;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.Flow;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The pool: the public API over the engine's parts, each in its own file. {@link Dispatcher}
 * routes calls; {@link SessionEntry} runs a session's strand and {@link Sessions} keeps them;
 * {@link Supervisor} starts, replaces, retires and recycles workers; {@link HealthMonitor} checks
 * them; {@link WorkerSetup} holds the steps every worker runs; {@link Shutdown} closes; a
 * {@link WorkerLauncher} and its {@link WorkerTransport}s are the seam to the Python processes.
 * A blocking call takes no pool-wide lock; an async one registers its deadline with the pool's
 * timer (one short lock).
 */
final class PoolEngine implements PythonPool {
    private static final Logger LOG = LoggerFactory.getLogger(PythonPool.class);
    private static final long TICK_MILLIS = 20;

    private final PoolSettings settings;
    private final String name;
    private final PoolClock clock;
    private final ObjectMapper mapper;
    private final Timers timers;
    private final Replies replies;
    private final Dispatcher dispatcher;
    private final Sessions sessions;
    private final WorkerSetup setup;
    private final HealthMonitor monitor;
    private final Supervisor supervisor;
    private final Shutdown shutdown;
    private final CommandTimes commandTimes = new CommandTimes();
    private final CallerSpin spin;
    private final Listeners listeners;
    private final JavaFunctions javaFunctions;
    private final StreamCalls streams;
    /** The pool's MXBean, when registered; unregistered by {@link Shutdown}. */
    private volatile javax.management.ObjectName jmxName;
    private final CallTracing tracing; // null without a tracer

    private PoolEngine(PoolSettings settings, java.util.function.Function<PoolEngine, WorkerLauncher> launcher) {
        this.settings = settings;
        this.name = settings.name();
        this.clock = settings.clock();
        // The user's mapper, copied; the copy also sends byte[], ByteBuffer and NdArray as attachments.
        this.mapper = JsonLimits.applied(settings.objectMapper(), settings.maxFrameBytes())
                .registerModule(Attachments.module());
        this.timers = new Timers(name);
        this.listeners = new Listeners(name, settings.listeners());
        this.replies = new Replies(name, mapper);
        this.tracing = settings.tracer() == null ? null : new CallTracing(name, settings.tracer(), replies);
        this.spin = new CallerSpin(settings.callerSpin().toNanos(), commandTimes);
        this.dispatcher = new Dispatcher(this);
        this.javaFunctions = new JavaFunctions(this, settings.javaFunctions(), settings.javaFunctionExecutor());
        this.streams = new StreamCalls(this);
        this.sessions = new Sessions(this);
        this.setup = new WorkerSetup(this);
        this.monitor = new HealthMonitor(this);
        this.shutdown = new Shutdown(this);
        this.supervisor = new Supervisor(this, launcher.apply(this));
    }

    /** Starts a pool of local Python processes. */
    static PoolEngine start(PoolSettings settings) {
        if (settings.backend() != null) {
            return startOn(settings.backend(), settings);
        }
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
        LOG.info("pool '{}' starting {} workers with {} (Python {}), handler modules {}, run id {}", settings.name(),
                settings.workers(), interpreter.executable(), interpreter.version(), settings.handlerModules(), settings.runId());
        return start(settings, pool -> ForkServerLauncher.choose(settings,
                new ProcessLauncher(settings, interpreter.executable(), runtimeDir, pool.timers().blocking()),
                pool.timers().blocking()));
    }

    /** Starts a pool whose workers run on a backend: the runtime is unpacked here for the backend to ship. */
    private static PoolEngine startOn(WorkerBackend backend, PoolSettings settings) {
        Path runtimeDir;
        try {
            runtimeDir = PythonRuntime.unpack();
        } catch (IOException e) {
            throw new PoolStartupException(settings.name(), e.getMessage(), e); // pypool's own, not the backend's
        }
        WorkerHost host;
        try {
            host = backend.open(new WorkerSpec(settings, runtimeDir));
        } catch (IOException e) {
            throw new PoolStartupException(settings.name(), backend.describe() + ": " + e.getMessage(), e);
        } catch (RuntimeException e) {
            throw new PoolStartupException(settings.name(), backend.describe() + " failed to open: " + e, e);
        }
        LOG.info("pool '{}' starting {} workers on {}, handler modules {}, run id {}", settings.name(),
                settings.workers(), backend.describe(), settings.handlerModules(), settings.runId());
        return start(settings, pool -> new BackendLauncher(settings, host, pool.timers().blocking()));
    }

    /** Starts a pool on any launcher: the engine's tests use an in-JVM fake. */
    static PoolEngine start(PoolSettings settings, java.util.function.Function<PoolEngine, WorkerLauncher> launcher) {
        PoolEngine pool = new PoolEngine(settings, launcher);
        pool.supervisor.startAll();
        pool.timers.every(TICK_MILLIS, pool.monitor::tick);
        try {
            pool.supervisor.awaitStartup();
        } catch (RuntimeException e) {
            pool.close();
            throw e;
        }
        if (settings.jmx() && !pool.shutdown.started()) {
            pool.jmxName = PoolJmx.register(pool, pool.name);
        }
        return pool;
    }

    // ---- the parts, for each other -------------------------------------------------------------------

    PoolSettings settings() {
        return settings;
    }

    /** Unregisters the pool's MXBean, if it has one; once. */
    void unregisterJmx() {
        javax.management.ObjectName on = jmxName;
        jmxName = null;
        PoolJmx.unregister(on, name);
    }

    PoolClock clock() {
        return clock;
    }

    ObjectMapper mapper() {
        return mapper;
    }

    Timers timers() {
        return timers;
    }

    Executor housekeeping() {
        return timers.housekeeping();
    }

    Replies replies() {
        return replies;
    }

    Listeners listeners() {
        return listeners;
    }

    Dispatcher dispatcher() {
        return dispatcher;
    }

    JavaFunctions javaFunctions() {
        return javaFunctions;
    }

    Sessions sessions() {
        return sessions;
    }

    WorkerSetup setup() {
        return setup;
    }

    HealthMonitor monitor() {
        return monitor;
    }

    Supervisor supervisor() {
        return supervisor;
    }

    Worker[] workers() {
        return supervisor.workers();
    }

    List<Worker> allWorkers() {
        return supervisor.allWorkers();
    }

    boolean isClosed() {
        return shutdown.started();
    }

    @Override
    public String name() {
        return name;
    }

    // ---- calls ----------------------------------------------------------------------------------------

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
        Call call = newCall(session, command, args, options);
        boolean mayWait = settings.saturationPolicy() == SaturationPolicy.WAIT;
        try {
            submit(call, mayWait);
        } catch (InterruptedException e) {
            dispatcher.abandon(call, new CancellationException("the caller was interrupted"));
            throw e;
        }
        spin.awaitBriefly(call, dispatcher);
        Call.Reply reply;
        try {
            // The caller's own timed wait is this call's deadline timer: nothing shared is touched.
            reply = call.get(call.remainingNanos(System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            dispatcher.onDeadline(call);
            reply = outcome(call);
        } catch (ExecutionException e) {
            throw withCallSite(asRuntime(e.getCause()));
        } catch (InterruptedException e) {
            dispatcher.abandon(call, new CancellationException("the caller was interrupted"));
            throw e;
        }
        return replies.decode(reply, call, resultType);
    }

    <T> CompletableFuture<T> callAsync(SessionEntry session, String command, Object args, Class<T> resultType,
                                       CallOptions options) {
        Call call;
        try {
            call = newCall(session, command, args, options);
            watchDeadline(call);
            submit(call, false);
        } catch (RuntimeException | InterruptedException e) {
            return CompletableFuture.failedFuture(e);
        }
        CompletableFuture<T> result = call.handleAsync((reply, error) -> {
            if (error != null) {
                throw new CompletionException(unwrap(error));
            }
            return replies.decode(reply, call, resultType);
        }, settings.callbackExecutor());
        result.whenComplete((value, error) -> {
            if (error instanceof CancellationException) {
                dispatcher.abandon(call, new CancellationException("the caller cancelled it"));
            }
        });
        return result;
    }

    @Override
    public <T> Stream<T> stream(String command, Object args, Class<T> itemType, StreamOptions options) {
        return streams.stream(null, command, args, itemType, options);
    }

    @Override
    public <T> Flow.Publisher<T> publisher(String command, Object args, Class<T> itemType, StreamOptions options) {
        return streams.publisher(null, command, args, itemType, options);
    }

    StreamCalls streams() {
        return streams;
    }

    void submit(Call call, boolean mayWait) throws InterruptedException {
        if (isClosed()) {
            call.completeExceptionally(new PoolClosedException(name, "the pool is closed; call '" + call.command
                    + "' was not run"));
            return;
        }
        if (call.session == null) {
            dispatcher.submit(call, mayWait);
        } else {
            call.session.enqueue(call, mayWait);
        }
    }

    /** Deadlines of calls nobody blocks on fire from the housekeeping thread's timer. */
    void watchDeadline(Call call) {
        ScheduledFuture<?> timer = timers.after(call.remainingNanos(System.nanoTime()), () -> dispatcher.onDeadline(call));
        if (timer != null) {
            call.whenComplete((reply, error) -> timer.cancel(false));
        }
    }

    CommandTimes commandTimes() {
        return commandTimes;
    }

    /** How many replies arrived while their caller spun (tests check that spinning happens). */
    long spinHits() {
        return spin.hits();
    }

    private Call newCall(SessionEntry session, String command, Object args, CallOptions options) {
        return newCall(session, command, args, options.timeoutOrNull(), options.isIdempotent(), null);
    }

    /**
     * A caller's call; {@code items} non-null for a stream. Made on a thread that runs a Java
     * function for a call (a nested call), it gets no more than that call's remaining time, and
     * may not go to that call's own session, which waits on it.
     */
    Call newCall(SessionEntry session, String command, Object args, Duration ownTimeout, boolean idempotent,
                 StreamItems items) {
        if (command == null || command.isEmpty()) {
            throw new IllegalArgumentException("command must be a non-empty name");
        }
        if (isClosed()) {
            throw new PoolClosedException(name, "the pool is closed; call '" + command + "' was not run");
        }
        long now = System.nanoTime();
        long timeoutNanos = (ownTimeout == null ? settings.callTimeout() : ownTimeout).toNanos();
        Call outer = JavaFunctions.outerCall();
        if (outer != null) {
            // The whole chain: a session call waiting on Java, whose function made a call whose
            // handler waits on Java, whose function calls into the session, waits for itself too.
            for (Call waiting = outer; waiting != null && session != null; waiting = waiting.parent) {
                if (waiting.session == session) {
                    throw new SessionReentryException(name, session.id, "call '" + command + "' into " + session
                            + " was made by a Java function that the session's own call '" + waiting.command
                            + "' is waiting on" + (waiting == outer ? "" : " (through nested call '" + outer.command + "')")
                            + "; it could only wait for itself (use another session, or an anonymous call)");
                }
            }
            timeoutNanos = Math.min(timeoutNanos, outer.remainingNanos(now));
            if (timeoutNanos <= 0) {
                throw new CallTimeoutException(name, "call '" + command + "' was not run: the call '" + outer.command
                        + "' whose Java function made it has no time left", false);
            }
        }
        CallTracer.Scope trace = tracing == null ? null : tracing.start(command, session);
        byte[] frame;
        try {
            frame = encode(command, args, session == null ? null : session.id, items,
                    trace == null ? null : tracing.traceparent(trace));
        } catch (RuntimeException e) {
            if (trace != null) {
                tracing.end(trace, CallOutcome.of(e), e);
            }
            throw e;
        }
        Call call = new Call(command, session, frame, now, timeoutNanos, idempotent, Call.Kind.USER, items);
        call.parent = outer;
        if (trace != null) {
            tracing.watch(call, trace);
        }
        if (listeners.active()) { // one field read when nobody listens
            listeners.watch(call);
        }
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

    private byte[] encode(String command, Object args, String sessionId) {
        return encode(command, args, sessionId, null, null);
    }

    private byte[] encode(String command, Object args, String sessionId, StreamItems stream, String traceparent) {
        byte[] frame;
        try {
            frame = FrameCodec.encodeRequest(mapper, command, args, sessionId, settings.maxFrameBytes(),
                    stream == null ? 0 : stream.windowItems(), stream == null ? 0 : stream.windowBytes(), traceparent);
        } catch (IOException e) {
            throw new IllegalArgumentException("the arguments of '" + command + "' cannot be written as JSON: "
                    + e.getMessage(), e);
        }
        if (FrameCodec.bodyLength(frame) > settings.maxFrameBytes()) {
            throw new ArgumentsTooLargeException("the arguments of '" + command + "' are " + FrameCodec.bodyLength(frame)
                    + " bytes as JSON, over maxFrameBytes (" + settings.maxFrameBytes() + ")", FrameCodec.bodyLength(frame),
                    settings.maxFrameBytes());
        }
        return frame;
    }

    /** Fails now, on the caller's thread, if these arguments cannot be sent. */
    void checkEncodable(String command, Object args) {
        encode(command, args, null);
    }

    /**
     * A pool-internal call (setup steps, pings, close notices): not idempotent, never counted
     * against maxQueuedCalls, its deadline watched by the timer.
     */
    Call newInternalCall(String command, Object args, SessionEntry session, long timeoutNanos) {
        Call call = new Call(command, session, encode(command, args, session == null ? null : session.id),
                System.nanoTime(), timeoutNanos, false, Call.Kind.INTERNAL);
        watchDeadline(call);
        return call;
    }

    /** The restore step of a session that moved to a new worker; the session's calls wait for it. */
    Call newRestoreCall(SessionEntry s, String command, Object args) {
        byte[] frame = encode(command, args, s.id); // checked when the step was registered
        Call restore = new Call(command, s, frame, System.nanoTime(), settings.callTimeout().toNanos(), false,
                Call.Kind.RESTORE);
        watchDeadline(restore);
        return restore;
    }

    Call.Reply outcome(Call call) {
        try {
            return call.join();
        } catch (CompletionException | CancellationException e) {
            throw withCallSite(asRuntime(unwrap(e)));
        }
    }

    static Throwable unwrap(Throwable t) {
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
    static RuntimeException withCallSite(RuntimeException e) {
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

    static RuntimeException asRuntime(Throwable t) {
        t = unwrap(t);
        if (t instanceof RuntimeException re) {
            return re;
        }
        if (t instanceof Error err) {
            throw err;
        }
        return new CompletionException(t);
    }

    SessionLostException sessionLost(SessionEntry s) {
        String why = s.endedBecause() == null ? "its worker is gone" : s.endedBecause();
        return new SessionLostException(name, s.id, s + " is no longer usable: " + why
                + "; open a new session (pool.session(id) gives a fresh one)");
    }

    String stateSummary() {
        Worker[] ws = workers();
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
        return "(workers=" + ws.length + ", ready=" + ready + ", busy=" + busy + ", queued=" + dispatcher.queued() + ")";
    }

    // ---- sessions, setup, health, stats, close ------------------------------------------------------

    @Override
    public PythonSession session(String id) {
        return session(id, SessionOptions.DEFAULTS);
    }

    @Override
    public PythonSession session(String id, SessionOptions options) {
        java.util.Objects.requireNonNull(options, "options");
        if (isClosed()) {
            throw new PoolClosedException(name, "the pool is closed; no session can be opened");
        }
        return sessions.open(id, options);
    }

    @Override
    public PythonSession newSession() {
        return session(UUID.randomUUID().toString());
    }

    @Override
    public CompletableFuture<Void> configureWorkers(String key, String command, Object args) {
        // Completed off the workers' reader threads: what the caller chains on it may block.
        return setup.configure(key, command, args).thenApplyAsync(done -> done, settings.callbackExecutor());
    }

    @Override
    public PoolHealth health() {
        return monitor.report();
    }

    @Override
    public PoolStats stats() {
        List<PoolStats.Worker> list = new ArrayList<>();
        for (Worker w : workers()) {
            list.add(new PoolStats.Worker(w.id, w.pid(), w.state().name(), w.inFlight(), w.pinnedSessions(),
                    w.answered(), w.rssBytes(), w.location()));
        }
        return new PoolStats(name, settings.runId(), List.copyOf(list), dispatcher.queued(), sessions.size(),
                supervisor.restarts());
    }

    @Override
    public void close() {
        shutdown.close();
    }

    @Override
    public String toString() {
        return "PythonPool[" + name + " " + stateSummary() + "]";
    }
}
