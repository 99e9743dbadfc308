package io.pypool;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Executor;
import java.util.concurrent.ForkJoinPool;
import java.util.regex.Pattern;

/**
 * Configures and starts a {@link PythonPool}. Every setter checks its value at once and says which
 * option was wrong and why; {@link #build()} checks how the options fit together.
 */
public final class PythonPoolBuilder {
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_.-]{1,64}");
    private static final Pattern MODULE = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)*");

    /**
     * Calls a default worker holds. Deep enough that a service's callers rarely wait in the pool's
     * queue: a call sent from there is written by the thread that reads replies, which then
     * writes as well as reads and caps the worker's throughput. The pipelining rule keeps depth
     * from costing latency (no call waits behind one that stopped moving).
     */
    private static final int DEFAULT_PIPELINE_DEPTH = 64;

    private String name;
    private int workers = Math.max(1, Runtime.getRuntime().availableProcessors());
    private Integer minReadyWorkers;
    private String pythonExecutable;
    private final List<String> handlerModules = new ArrayList<>();
    private final List<Path> pythonPath = new ArrayList<>();
    private final Map<String, String> environment = new LinkedHashMap<>();
    private Path workingDirectory;
    private Duration startupTimeout = Duration.ofSeconds(30);
    private Duration callTimeout = Duration.ofSeconds(30);
    private Duration closeGracePeriod = Duration.ofSeconds(10);
    private int maxQueuedCalls = 1000;
    private SaturationPolicy saturationPolicy = SaturationPolicy.FAIL;
    /** Null until set: the default pipelines through one handler thread (see {@link #handlerThreads}). */
    private Integer maxInFlightPerWorker;
    private int maxInFlightPerSession = 1;
    private int maxQueuedCallsPerSession = 1000;
    private Duration slotRetryAfter = Duration.ofSeconds(60);
    private Integer handlerThreads;
    private Duration callerSpin = Duration.ofNanos(50_000);
    private Duration sessionIdleTtl = Duration.ofMinutes(30);
    private int maxSessions = 10_000;
    private int maxFrameBytes = 64 * 1024 * 1024;
    private Duration healthCheckInterval = Duration.ofSeconds(5);
    private int maxConcurrentStarts = 8;
    private int maxConsecutiveStartFailures = 5;
    private long recycleAfterCalls;
    private Duration recycleAfterAge;
    private long recycleAboveRssBytes;
    private boolean reapOrphans = true;
    private boolean forkServer = true;
    private WorkerBackend backend;
    private boolean jmx;
    private org.slf4j.event.Level workerOutputLevel = org.slf4j.event.Level.INFO;
    private PoolClock clock = PoolClock.system();
    private Executor callbackExecutor = ForkJoinPool.commonPool();
    private ObjectMapper objectMapper;
    private final List<PoolListener> listeners = new ArrayList<>();
    private CallTracer tracer;
    private final Map<String, JavaFunction> javaFunctions = new LinkedHashMap<>();
    private Executor javaFunctionExecutor;

    PythonPoolBuilder() {}

    /**
     * A name for logs, metrics and error messages; default "pypool-" plus the run id.
     *
     * @param name 1 to 64 letters, digits, {@code _}, {@code .} or {@code -}; not null
     * @return this builder
     * @throws IllegalArgumentException if the name has other characters or is empty or too long
     */
    public PythonPoolBuilder name(String name) {
        Objects.requireNonNull(name, "name");
        if (!NAME.matcher(name).matches()) {
            throw invalid("name", name, "use 1-64 letters, digits, '_', '.' or '-'");
        }
        this.name = name;
        return this;
    }

    /**
     * How many Python processes; default: the number of CPU cores (one per core suits CPU-bound work).
     *
     * @param workers the number of worker processes, 1 to 1024
     * @return this builder
     * @throws IllegalArgumentException if {@code workers} is outside 1 to 1024
     */
    public PythonPoolBuilder workers(int workers) {
        this.workers = checkRange("workers", workers, 1, 1024);
        return this;
    }

    /**
     * How many workers must be ready before {@link #build()} returns; default all. 0 starts the
     * pool lazily: build returns at once and calls wait (within their deadline) for the first worker.
     *
     * @param count 0 to 1024, and at most {@link #workers} (checked by {@link #build()})
     * @return this builder
     * @throws IllegalArgumentException if {@code count} is outside 0 to 1024
     */
    public PythonPoolBuilder minReadyWorkers(int count) {
        this.minReadyWorkers = checkRange("minReadyWorkers", count, 0, 1024);
        return this;
    }

    /**
     * The interpreter to run. Default: the real interpreter behind {@code python3} on the PATH,
     * resolved once through {@code sys.executable}, so that a version-manager shim is never spawned.
     *
     * @param executable a path to a Python 3.9+ interpreter, or a command name looked up on the PATH;
     *        not null, not blank
     * @return this builder
     * @throws IllegalArgumentException if {@code executable} is blank
     */
    public PythonPoolBuilder pythonExecutable(String executable) {
        Objects.requireNonNull(executable, "pythonExecutable");
        if (executable.isBlank()) {
            throw invalid("pythonExecutable", executable, "give a path or a command name");
        }
        this.pythonExecutable = executable;
        return this;
    }

    /**
     * The interpreter to run, as a path; see {@link #pythonExecutable(String)}.
     *
     * @param executable the interpreter's path (a virtualenv's {@code bin/python}, for example); not null
     * @return this builder
     */
    public PythonPoolBuilder pythonExecutable(Path executable) {
        return pythonExecutable(Objects.requireNonNull(executable, "pythonExecutable").toString());
    }

    /**
     * Python modules whose {@code @pypool.command} handlers the workers serve, imported at start.
     * May be called more than once; a module named twice is imported once.
     *
     * @param modules dotted module names such as {@code my_pkg.handlers}, importable from
     *        {@link #pythonPath} or the interpreter's own packages
     * @return this builder
     * @throws IllegalArgumentException if a name is not a Python module name
     */
    public PythonPoolBuilder handlerModules(String... modules) {
        for (String module : modules) {
            Objects.requireNonNull(module, "handler module");
            if (!MODULE.matcher(module).matches()) {
                throw invalid("handlerModules", module, "not a Python module name such as 'my_pkg.handlers'");
            }
            if (!handlerModules.contains(module)) {
                handlerModules.add(module);
            }
        }
        return this;
    }

    /**
     * Folders put on the workers' {@code sys.path}, after pypool's own runtime, in the order given.
     * May be called more than once.
     *
     * @param folders folders to import handler modules from; relative ones are resolved against the
     *        JVM's working directory now
     * @return this builder
     */
    public PythonPoolBuilder pythonPath(Path... folders) {
        for (Path folder : folders) {
            pythonPath.add(Objects.requireNonNull(folder, "pythonPath entry").toAbsolutePath());
        }
        return this;
    }

    /**
     * An environment variable for the workers, added to the JVM's own environment. Overrides the
     * default thread caps (OMP_NUM_THREADS=1 and kin) where it names one of them.
     *
     * @param key the variable's name: not empty, without {@code =} or NUL
     * @param value its value; not null (an empty string sets it empty)
     * @return this builder
     * @throws IllegalArgumentException if {@code key} is not a valid variable name
     */
    public PythonPoolBuilder environment(String key, String value) {
        Objects.requireNonNull(key, "environment key");
        Objects.requireNonNull(value, "environment value for " + key);
        if (key.isEmpty() || key.indexOf('=') >= 0 || key.indexOf('\0') >= 0) {
            throw invalid("environment", key, "not a valid variable name");
        }
        environment.put(key, value);
        return this;
    }

    /**
     * Environment variables for the workers, each as {@link #environment(String, String)} would add it.
     *
     * @param variables names and values; neither may be null
     * @return this builder
     * @throws IllegalArgumentException if a name is not a valid variable name
     */
    public PythonPoolBuilder environment(Map<String, String> variables) {
        variables.forEach(this::environment);
        return this;
    }

    /**
     * The workers' working directory; default the JVM's. Either way nothing is imported from it
     * unless it is also on {@link #pythonPath}: workers start from pypool's runtime folder.
     *
     * @param folder an existing directory; relative ones are resolved against the JVM's working
     *        directory now
     * @return this builder
     * @throws IllegalArgumentException if {@code folder} is not a directory
     */
    public PythonPoolBuilder workingDirectory(Path folder) {
        Objects.requireNonNull(folder, "workingDirectory");
        if (!java.nio.file.Files.isDirectory(folder)) {
            throw invalid("workingDirectory", folder, "not a directory");
        }
        this.workingDirectory = folder.toAbsolutePath();
        return this;
    }

    /**
     * How long a worker may take from spawn to ready (imports included); default 30 s.
     *
     * @param timeout a positive duration
     * @return this builder
     * @throws IllegalArgumentException if {@code timeout} is zero or negative
     */
    public PythonPoolBuilder startupTimeout(Duration timeout) {
        this.startupTimeout = checkPositive("startupTimeout", timeout);
        return this;
    }

    /**
     * The default deadline of a call, queueing included; default 30 s. A call can set its own with
     * {@link CallOptions}.
     *
     * @param timeout a positive duration
     * @return this builder
     * @throws IllegalArgumentException if {@code timeout} is zero or negative
     */
    public PythonPoolBuilder callTimeout(Duration timeout) {
        this.callTimeout = checkPositive("callTimeout", timeout);
        return this;
    }

    /**
     * How long {@link PythonPool#close()} lets accepted calls finish; default 10 s.
     *
     * @param grace zero (fail calls still running at once) or a positive duration
     * @return this builder
     * @throws IllegalArgumentException if {@code grace} is negative
     */
    public PythonPoolBuilder closeGracePeriod(Duration grace) {
        Objects.requireNonNull(grace, "closeGracePeriod");
        if (grace.isNegative()) {
            throw invalid("closeGracePeriod", grace, "must not be negative");
        }
        this.closeGracePeriod = grace;
        return this;
    }

    /**
     * How many calls may wait for a worker; one more fails at once with {@link PoolSaturatedException}
     * (or waits, under {@link SaturationPolicy#WAIT}). Default 1000.
     *
     * @param max 0 (no queue: a call runs at once or is refused) to 10,000,000
     * @return this builder
     * @throws IllegalArgumentException if {@code max} is outside 0 to 10,000,000
     */
    public PythonPoolBuilder maxQueuedCalls(int max) {
        this.maxQueuedCalls = checkRange("maxQueuedCalls", max, 0, 10_000_000);
        return this;
    }

    /**
     * What a call does when the queue it would wait in is full: {@link SaturationPolicy#FAIL}
     * (default) fails it at once with {@link PoolSaturatedException}; {@link SaturationPolicy#WAIT}
     * lets a blocking caller wait for room within its deadline (fan-out from many virtual threads).
     *
     * @param policy the policy; not null
     * @return this builder
     */
    public PythonPoolBuilder saturationPolicy(SaturationPolicy policy) {
        this.saturationPolicy = Objects.requireNonNull(policy, "saturationPolicy");
        return this;
    }

    /**
     * How many calls of one session run at once in its worker; default 1: a session's calls run
     * one after another, in the order they were made, however many threads share the session.
     * A session can set its own when it is opened ({@link SessionOptions}).
     *
     * @param max 1 to 1024
     * @return this builder
     * @throws IllegalArgumentException if {@code max} is outside 1 to 1024
     */
    public PythonPoolBuilder maxInFlightPerSession(int max) {
        this.maxInFlightPerSession = checkRange("maxInFlightPerSession", max, 1, 1024);
        return this;
    }

    /**
     * How many calls of one session may wait for their turn; default 1000. Each session has its
     * own bound, so one busy session cannot fill the pool's queue.
     *
     * @param max 1 to 10,000,000
     * @return this builder
     * @throws IllegalArgumentException if {@code max} is outside 1 to 10,000,000
     */
    public PythonPoolBuilder maxQueuedCallsPerSession(int max) {
        this.maxQueuedCallsPerSession = checkRange("maxQueuedCallsPerSession", max, 1, 10_000_000);
        return this;
    }

    /**
     * Calls one worker holds at once, running or waiting in its input; default 64, with one
     * handler thread (see {@link #handlerThreads}). Set it, and unless you also set {@link
     * #handlerThreads}, the worker runs that many calls at once on threads: right for I/O-bound
     * work such as LLM calls; CPU-bound Python gains nothing from it (the GIL). 1 sends a worker
     * one call at a time.
     *
     * @param max 1 to 1024, and at least {@link #handlerThreads} (checked by {@link #build()})
     * @return this builder
     * @throws IllegalArgumentException if {@code max} is outside 1 to 1024
     */
    public PythonPoolBuilder maxInFlightPerWorker(int max) {
        this.maxInFlightPerWorker = checkRange("maxInFlightPerWorker", max, 1, 1024);
        return this;
    }

    /**
     * Threads that run handlers in each worker. Default: 1 when {@link #maxInFlightPerWorker} is
     * not set, else that value, so that every call in flight runs at once.
     *
     * <p>Fewer threads than calls in flight <em>pipeline</em>: the worker runs calls one after
     * another while the next ones already wait in its input, so it never idles between calls and
     * small calls cost little more than their pipe round trip. A slow call would delay the ones
     * queued behind it, so a worker is sent calls beyond its threads only while it keeps
     * answering (it answered, or went from idle to busy, within the last millisecond) and what it
     * runs is not a command known to take longer than that; otherwise calls wait in the pool's
     * queue for whichever worker frees up first.
     *
     * @param threads 1 to 1024, and at most {@link #maxInFlightPerWorker} (checked by {@link #build()})
     * @return this builder
     * @throws IllegalArgumentException if {@code threads} is outside 1 to 1024
     */
    public PythonPoolBuilder handlerThreads(int threads) {
        this.handlerThreads = checkRange("handlerThreads", threads, 1, 1024);
        return this;
    }

    /**
     * How long a blocking caller watches for its reply before it parks; default 50 µs, 0 to park
     * at once. A small call's round trip takes about as long as waking a parked thread, so
     * watching saves that wake-up: it roughly halves a no-op call's latency. It is done only where
     * it pays: for commands whose recent calls answered within this budget, for a call that runs
     * at once on its worker, while no call waits in the pool's queue, and by at most one caller
     * per two cores at a time.
     *
     * @param spin 0 to 1 ms; not null
     * @return this builder
     * @throws IllegalArgumentException if {@code spin} is negative or longer than 1 ms
     */
    public PythonPoolBuilder callerSpin(Duration spin) {
        Objects.requireNonNull(spin, "callerSpin");
        if (spin.isNegative() || spin.compareTo(Duration.ofMillis(1)) > 0) {
            throw invalid("callerSpin", spin, "must be between 0 and 1 ms");
        }
        this.callerSpin = spin;
        return this;
    }

    /**
     * A session unused for this long is closed in the background; default 30 min.
     *
     * @param ttl a positive duration, measured on the pool's {@link #clock}
     * @return this builder
     * @throws IllegalArgumentException if {@code ttl} is zero or negative
     */
    public PythonPoolBuilder sessionIdleTtl(Duration ttl) {
        this.sessionIdleTtl = checkPositive("sessionIdleTtl", ttl);
        return this;
    }

    /**
     * Above this many sessions, the least recently used idle ones are closed in the background; default 10,000.
     *
     * @param max 1 to 10,000,000
     * @return this builder
     * @throws IllegalArgumentException if {@code max} is outside 1 to 10,000,000
     */
    public PythonPoolBuilder maxSessions(int max) {
        this.maxSessions = checkRange("maxSessions", max, 1, 10_000_000);
        return this;
    }

    /**
     * The largest frame either side accepts (arguments or result: the JSON and its binary attachments
     * together); default 64 MiB. Larger arguments fail at once with {@link ArgumentsTooLargeException}.
     *
     * @param max in bytes, at least 1024
     * @return this builder
     * @throws IllegalArgumentException if {@code max} is below 1024 or too close to {@code Integer.MAX_VALUE}
     */
    public PythonPoolBuilder maxFrameBytes(int max) {
        this.maxFrameBytes = checkRange("maxFrameBytes", max, 1024, Integer.MAX_VALUE - 64);
        return this;
    }

    /**
     * How often idle workers are pinged and busy ones checked for progress (CPU time, finished
     * calls) and for being stopped; default 5 s. A dead or stuck worker shows in
     * {@link PythonPool#health()} within one interval. Never runs on a caller's thread.
     *
     * @param interval a positive duration, measured on the pool's {@link #clock}
     * @return this builder
     * @throws IllegalArgumentException if {@code interval} is zero or negative
     */
    public PythonPoolBuilder healthCheckInterval(Duration interval) {
        this.healthCheckInterval = checkPositive("healthCheckInterval", interval);
        return this;
    }

    /**
     * At most this many workers start at once (imports are CPU-heavy); default 8.
     *
     * @param max 1 to 1024
     * @return this builder
     * @throws IllegalArgumentException if {@code max} is outside 1 to 1024
     */
    public PythonPoolBuilder maxConcurrentStarts(int max) {
        this.maxConcurrentStarts = checkRange("maxConcurrentStarts", max, 1, 1024);
        return this;
    }

    /**
     * After this many failed starts in a row, a worker slot is given up instead of restarted
     * at once, and the pool reports itself DEGRADED with the reason, until the slot tries again
     * after {@link #slotRetryAfter}; default 5. Restarts in between back off exponentially (the
     * first is immediate). Only failed <em>starts</em> count: a worker that dies while serving is
     * replaced with backoff but never makes the pool give its slot up.
     *
     * @param max 1 to 1000
     * @return this builder
     * @throws IllegalArgumentException if {@code max} is outside 1 to 1000
     */
    public PythonPoolBuilder maxConsecutiveStartFailures(int max) {
        this.maxConsecutiveStartFailures = checkRange("maxConsecutiveStartFailures", max, 1, 1000);
        return this;
    }

    /**
     * How long a slot given up after {@code maxConsecutiveStartFailures} waits before it tries
     * again; default 60 s, so that a passing outage (a full disk, a package being upgraded) does
     * not shrink the pool for good.
     *
     * @param delay a positive duration
     * @return this builder
     * @throws IllegalArgumentException if {@code delay} is zero or negative
     */
    public PythonPoolBuilder slotRetryAfter(Duration delay) {
        this.slotRetryAfter = checkPositive("slotRetryAfter", delay);
        return this;
    }

    /**
     * Replace a worker gracefully after it served this many calls; 0 (default) never.
     *
     * @param calls 0 (off) or a positive number of calls
     * @return this builder
     * @throws IllegalArgumentException if {@code calls} is negative
     */
    public PythonPoolBuilder recycleAfterCalls(long calls) {
        if (calls < 0) {
            throw invalid("recycleAfterCalls", calls, "must be 0 (off) or positive");
        }
        this.recycleAfterCalls = calls;
        return this;
    }

    /**
     * Replace a worker gracefully once it is this old, give or take 5 % so workers don't all go at once; default never.
     *
     * @param age a positive duration, measured on the pool's {@link #clock}
     * @return this builder
     * @throws IllegalArgumentException if {@code age} is zero or negative
     */
    public PythonPoolBuilder recycleAfterAge(Duration age) {
        this.recycleAfterAge = checkPositive("recycleAfterAge", age);
        return this;
    }

    /**
     * Replace a worker gracefully once its Python process's resident memory passes this; 0 (default) never.
     *
     * @param bytes 0 (off) or a resident set size in bytes
     * @return this builder
     * @throws IllegalArgumentException if {@code bytes} is negative
     */
    public PythonPoolBuilder recycleAboveRssBytes(long bytes) {
        if (bytes < 0) {
            throw invalid("recycleAboveRssBytes", bytes, "must be 0 (off) or positive");
        }
        this.recycleAboveRssBytes = bytes;
        return this;
    }

    /**
     * Whether a starting pool ends leftover workers of earlier runs whose JVM is gone (found by
     * their command line, never by a PID alone); default true.
     *
     * @param reap false to leave such processes alone
     * @return this builder
     */
    public PythonPoolBuilder reapOrphans(boolean reap) {
        this.reapOrphans = reap;
        return this;
    }

    /**
     * Whether workers are forked from a template process that imports the handler modules once
     * (true, the default) or each spawned as a fresh interpreter that imports them itself (false).
     * Forked workers are ready in milliseconds and share the imported modules' memory pages; they
     * behave as spawned ones do in every other way (sessions, recycling, health, process groups).
     * Where forking is unsafe the pool spawns anyway and logs why once: when the modules leave a
     * thread running, a socket or a SQLite database open, or CUDA initialised after import (a
     * module can close such things in a {@code pypool.forksafe.before_fork} hook), or on a platform
     * without fork. Turn it off for handler modules whose import must run in each worker.
     *
     * @param fork false to spawn every worker as a fresh interpreter
     * @return this builder
     */
    public PythonPoolBuilder forkServer(boolean fork) {
        this.forkServer = fork;
        return this;
    }

    /**
     * Where the workers run, when not as local processes: for example pypool-ray's
     * {@code RayBackend}, which makes each worker a Ray actor on a cluster. The pool's behaviour
     * stays its own (sessions, deadlines, the queue, restarts, typed errors); the backend only
     * carries the worker's protocol. With a backend, {@link #pythonExecutable},
     * {@link #workingDirectory} and {@link #recycleAboveRssBytes} are refused at build (the backend
     * says which interpreter runs where, and the worker's memory is not readable from here), and
     * {@link #forkServer} is ignored. Default: none, local processes.
     *
     * @param backend the backend, or null for local processes
     * @return this builder
     */
    public PythonPoolBuilder backend(WorkerBackend backend) {
        this.backend = backend;
        return this;
    }

    /**
     * Whether the pool registers a {@link PythonPoolMXBean} with the platform MBean server, under
     * {@code io.pypool:type=PythonPool,name=<pool name>}, for JConsole, VisualVM or a JMX
     * exporter; default false. The bean is registered once the pool has started and unregistered
     * when it closes. When the name is taken (another pool of the same name in this JVM) the pool
     * logs a warning and serves without JMX: watching never stops a pool from starting.
     *
     * @param enabled true to register the pool's MXBean
     * @return this builder
     */
    public PythonPoolBuilder jmx(boolean enabled) {
        this.jmx = enabled;
        return this;
    }

    /**
     * The clock behind session idle TTL, health-check intervals and recycling by age; default the
     * system's. Tests pass a clock they advance by hand (pypool-testkit's {@code ManualClock}).
     *
     * @param clock the clock; not null
     * @return this builder
     */
    public PythonPoolBuilder clock(PoolClock clock) {
        this.clock = Objects.requireNonNull(clock, "clock");
        return this;
    }

    /**
     * Where the stages of {@link PythonCaller#callAsync} futures run; default the common ForkJoinPool.
     *
     * @param executor the executor; not null. The pool never shuts it down.
     * @return this builder
     */
    public PythonPoolBuilder callbackExecutor(Executor executor) {
        this.callbackExecutor = Objects.requireNonNull(executor, "callbackExecutor");
        return this;
    }

    /**
     * The Jackson mapper for arguments and results; default a plain {@code new ObjectMapper()}.
     * The pool sends binary values through a copy of its own and never changes this one.
     *
     * @param mapper the mapper, configured as the application needs (modules, naming); not null
     * @return this builder
     */
    public PythonPoolBuilder objectMapper(ObjectMapper mapper) {
        this.objectMapper = Objects.requireNonNull(mapper, "objectMapper");
        return this;
    }

    /**
     * Adds a listener told of calls starting and ending and of workers starting, crashing, being
     * replaced and recycled (for metrics: pypool-micrometer's {@code PypoolMetrics}). May be given
     * more than once; each is told in the order given. Listeners run on the thread that saw the
     * event and must be fast and never block; what one throws is logged and ignored. Without
     * listeners the call path does no extra work.
     *
     * @param listener the listener; not null
     * @return this builder
     */
    public PythonPoolBuilder listener(PoolListener listener) {
        listeners.add(Objects.requireNonNull(listener, "listener"));
        return this;
    }

    /**
     * The level at which the workers' plain output reaches SLF4J: {@code print()}, text written to
     * fd 1 or 2, C libraries, tracebacks of crashes. Python {@code logging} records keep their own
     * level whatever this says. Default INFO; DEBUG keeps chatty handlers out of production logs,
     * WARN makes every line stand out.
     *
     * @param level the SLF4J level of plain output lines, on the logger {@code io.pypool.python.<pool name>}
     * @return this builder
     * @throws NullPointerException if {@code level} is null
     */
    public PythonPoolBuilder workerOutputLevel(org.slf4j.event.Level level) {
        this.workerOutputLevel = Objects.requireNonNull(level, "workerOutputLevel");
        return this;
    }

    /**
     * Traces each caller's call (streams and callbacks too): the tracer is told as a call starts,
     * on the caller's thread, and the W3C {@code traceparent} it gives goes out in the request,
     * where the handler reads it as {@code pypool.traceparent()} and its logging records carry
     * it; its scope is told how the call ended (pypool-micrometer's {@code PypoolObservation}
     * makes Micrometer Observations of them). Without a tracer the call path does no extra work.
     *
     * @param tracer the tracer; null for none (the default)
     * @return this builder
     */
    public PythonPoolBuilder tracer(CallTracer tracer) {
        this.tracer = tracer;
        return this;
    }

    /**
     * Registers a Java function that Python handlers may call by name:
     * {@code pypool.call_java(name, args)} (blocking, within the calling request's deadline) or
     * {@code await pypool.call_java_async(name, args)}. Python gets what it returns, or a
     * {@code pypool.JavaError} with the exception's class name and message. Functions run on the
     * {@link #javaFunctionExecutor}, never on a worker's reader thread, and may call the pool
     * again (see {@link JavaFunction}).
     *
     * @param name the name Python calls it by; not blank, and not registered before
     * @param fn the function; not null
     * @return this builder
     * @throws IllegalArgumentException if {@code name} is blank or already registered
     */
    public PythonPoolBuilder javaFunction(String name, JavaFunction fn) {
        Objects.requireNonNull(fn, "fn");
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("javaFunction name must be a non-empty name");
        }
        if (javaFunctions.putIfAbsent(name, fn) != null) {
            throw new IllegalArgumentException("javaFunction '" + name + "' is registered twice");
        }
        return this;
    }

    /**
     * Where {@linkplain #javaFunction Java functions} run. Default: threads of the pool's own,
     * made as needed and ended with the pool. A virtual-thread executor suits functions that
     * block (on I/O, on nested calls); the pool never shuts down an executor it was given.
     *
     * @param executor the executor; not null
     * @return this builder
     */
    public PythonPoolBuilder javaFunctionExecutor(Executor executor) {
        this.javaFunctionExecutor = Objects.requireNonNull(executor, "javaFunctionExecutor");
        return this;
    }

    /**
     * Starts the workers, all at once, and returns when {@code minReadyWorkers} of them are ready.
     *
     * @return the running pool; close it (try-with-resources) to end its workers
     * @throws PoolStartupException with the Python error (for example an ImportError) or the
     *         timeout; no process of the pool is left running
     * @throws IllegalArgumentException when options contradict each other
     */
    public PythonPool build() {
        return PoolEngine.start(settings());
    }

    /** The checked settings, as a pool built now would get them. */
    PoolSettings settings() {
        int minReady = minReadyWorkers == null ? workers : minReadyWorkers;
        if (minReady > workers) {
            throw new IllegalArgumentException(
                    "minReadyWorkers (" + minReady + ") must not exceed workers (" + workers + ")");
        }
        int inFlight = maxInFlightPerWorker == null ? Math.max(DEFAULT_PIPELINE_DEPTH, handlerThreads == null ? 1 : handlerThreads)
                : maxInFlightPerWorker;
        int threads = handlerThreads != null ? handlerThreads : maxInFlightPerWorker == null ? 1 : maxInFlightPerWorker;
        if (threads > inFlight) {
            throw new IllegalArgumentException("handlerThreads (" + threads + ") must not exceed maxInFlightPerWorker ("
                    + inFlight + "): a worker never has more calls than that to run");
        }
        if (backend != null) {
            // Set but unused would be a silent lie: these read or start a local process.
            List<String> local = new ArrayList<>();
            if (pythonExecutable != null) {
                local.add("pythonExecutable");
            }
            if (workingDirectory != null) {
                local.add("workingDirectory");
            }
            if (recycleAboveRssBytes > 0) {
                local.add("recycleAboveRssBytes");
            }
            if (!local.isEmpty()) {
                throw new IllegalArgumentException(String.join(", ", local) + " cannot be used with backend "
                        + backend.describe() + ": they apply to local worker processes only");
            }
        }
        String runId = RunIds.next();
        PoolSettings settings = new PoolSettings(
                name == null ? "pypool-" + runId : name, runId, workers, minReady, pythonExecutable,
                List.copyOf(handlerModules), List.copyOf(pythonPath), Map.copyOf(environment), workingDirectory,
                startupTimeout, callTimeout, closeGracePeriod, maxQueuedCalls, saturationPolicy, inFlight,
                maxInFlightPerSession, maxQueuedCallsPerSession, threads, callerSpin,
                sessionIdleTtl, maxSessions, maxFrameBytes, healthCheckInterval, maxConcurrentStarts,
                maxConsecutiveStartFailures, slotRetryAfter, recycleAfterCalls, recycleAfterAge, recycleAboveRssBytes, reapOrphans, forkServer, jmx, clock,
                callbackExecutor,
                objectMapper == null ? new ObjectMapper() : objectMapper,
                List.copyOf(listeners), tracer, Map.copyOf(javaFunctions), javaFunctionExecutor, workerOutputLevel, backend);
        return settings;
    }

    private static int checkRange(String option, int value, int min, int max) {
        if (value < min || value > max) {
            throw invalid(option, value, "must be between " + min + " and " + max);
        }
        return value;
    }

    private static Duration checkPositive(String option, Duration value) {
        Objects.requireNonNull(value, option);
        if (value.isNegative() || value.isZero()) {
            throw invalid(option, value, "must be positive");
        }
        return value;
    }

    private static IllegalArgumentException invalid(String option, Object value, String why) {
        return new IllegalArgumentException(option + " = '" + value + "' is invalid: " + why);
    }
}
