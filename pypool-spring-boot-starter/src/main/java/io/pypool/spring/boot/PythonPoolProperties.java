package io.pypool.spring.boot;

import io.pypool.PythonPool;
import io.pypool.PythonPoolBuilder;
import io.pypool.SaturationPolicy;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import org.springframework.util.unit.DataSize;
import org.springframework.validation.Errors;

/**
 * The settings of one pool, one property per setting of {@link PythonPoolBuilder} that a value can
 * express. Every setting is unset (null) until configured, and an unset one keeps the builder's
 * default. Each value is checked by the builder's own setter once the properties are bound (see
 * {@link PypoolProperties#validate}), so a bad value fails the application's start with the
 * property's name, its origin and the builder's reason.
 *
 * <p>The top-level {@code pypool.*} settings ({@link PypoolProperties}) configure the default pool,
 * or, when named pools are configured ({@code pypool.pools.<name>.*}), apply to each of them
 * before its own settings: a pool's own scalar setting wins, its lists
 * ({@code handler-modules}, {@code python-path}) add to the shared ones, and its environment
 * variables override the shared ones of the same name.
 */
public class PythonPoolProperties {

    /** Name of the pool in logs, metrics and error messages; default the pool's key ("default" for the default pool). */
    private String name;

    /** Number of Python worker processes, 1 to 1024; default the number of CPU cores. */
    private Integer workers;

    /** Workers that must be ready before the pool bean exists, 0 to workers; default all. 0 starts the pool lazily. */
    private Integer minReadyWorkers;

    /** Python interpreter, a path or a command on the PATH; default the interpreter behind python3. */
    private String pythonExecutable;

    /** Python modules whose @pypool.command handlers the workers serve, imported at start. */
    private List<String> handlerModules;

    /** Folders put on the workers' sys.path; relative ones are resolved against the working directory of the JVM. */
    private List<Path> pythonPath;

    /** Environment variables for the workers, added to the JVM's own. */
    private Map<String, String> environment;

    /** Working directory of the workers, an existing folder; default the JVM's. */
    private Path workingDirectory;

    /** How long a worker may take from spawn to ready, imports included; default 30s. */
    private Duration startupTimeout;

    /** Default deadline of a call, queueing included; default 30s. */
    private Duration callTimeout;

    /** How long closing the pool lets accepted calls finish; default 10s. */
    private Duration closeGracePeriod;

    /** Calls that may wait for a worker, 0 to 10,000,000; default 1000. */
    private Integer maxQueuedCalls;

    /** What a call does when the queue is full: FAIL at once (default) or WAIT for room within its deadline. */
    private SaturationPolicy saturationPolicy;

    /** Calls one worker holds at once, running or waiting in its input, 1 to 1024; default 64 with one handler thread. */
    private Integer maxInFlightPerWorker;

    /** Calls of one session that run at once in its worker, 1 to 1024; default 1. */
    private Integer maxInFlightPerSession;

    /** Calls of one session that may wait for their turn, 1 to 10,000,000; default 1000. */
    private Integer maxQueuedCallsPerSession;

    /** Threads that run handlers in each worker, 1 to 1024, at most max-in-flight-per-worker; default 1. */
    private Integer handlerThreads;

    /** How long a blocking caller watches for its reply before it parks, 0 to 1ms; default 50us. */
    private Duration callerSpin;

    /** A session unused for this long is closed; default 30m. */
    private Duration sessionIdleTtl;

    /** Above this many sessions the least recently used idle ones are closed, 1 to 10,000,000; default 10000. */
    private Integer maxSessions;

    /** Largest frame either side accepts (arguments or result), at least 1KB; default 64MB. */
    private DataSize maxFrameBytes;

    /** How often workers are checked (pinged when idle, checked for progress when busy); default 5s. */
    private Duration healthCheckInterval;

    /** Workers that start at once, 1 to 1024; default 8. */
    private Integer maxConcurrentStarts;

    /** Failed starts in a row after which a worker slot is given up until slot-retry-after, 1 to 1000; default 5. */
    private Integer maxConsecutiveStartFailures;

    /** How long a given-up worker slot waits before it tries again; default 60s. */
    private Duration slotRetryAfter;

    /** Replace a worker after it served this many calls; 0 (default) never. */
    private Long recycleAfterCalls;

    /** Replace a worker once it is this old, give or take 5 %; default never. */
    private Duration recycleAfterAge;

    /** Replace a worker once its resident memory passes this; 0 (default) never. */
    private DataSize recycleAboveRssBytes;

    /** Whether a starting pool ends leftover workers of earlier runs whose JVM is gone; default true. */
    private Boolean reapOrphans;

    /** Whether workers are forked from a template process that imported the handler modules once; default true. */
    private Boolean forkServer;

    /** Whether the pool registers its MXBean with the platform MBean server; default false. */
    private Boolean jmx;
    private org.slf4j.event.Level workerOutputLevel;

    /** Creates settings with nothing set: every setting keeps the builder's default. */
    public PythonPoolProperties() {}

    /**
     * The pool's name in logs, metrics and error messages.
     *
     * @return the name, or null when not set
     */
    public String getName() {
        return name;
    }

    /**
     * Sets the pool's name; see {@link PythonPoolBuilder#name(String)}.
     *
     * @param name 1 to 64 letters, digits, {@code _}, {@code .} or {@code -}
     */
    public void setName(String name) {
        this.name = name;
    }

    /**
     * The number of worker processes.
     *
     * @return the number, or null when not set
     */
    public Integer getWorkers() {
        return workers;
    }

    /**
     * Sets the number of worker processes; see {@link PythonPoolBuilder#workers(int)}.
     *
     * @param workers 1 to 1024
     */
    public void setWorkers(Integer workers) {
        this.workers = workers;
    }

    /**
     * How many workers must be ready before the pool is handed out.
     *
     * @return the number, or null when not set
     */
    public Integer getMinReadyWorkers() {
        return minReadyWorkers;
    }

    /**
     * Sets how many workers must be ready before the pool is handed out; see
     * {@link PythonPoolBuilder#minReadyWorkers(int)}.
     *
     * @param minReadyWorkers 0 to 1024, and at most the number of workers
     */
    public void setMinReadyWorkers(Integer minReadyWorkers) {
        this.minReadyWorkers = minReadyWorkers;
    }

    /**
     * The Python interpreter.
     *
     * @return a path or command name, or null when not set
     */
    public String getPythonExecutable() {
        return pythonExecutable;
    }

    /**
     * Sets the Python interpreter; see {@link PythonPoolBuilder#pythonExecutable(String)}.
     *
     * @param pythonExecutable a path or a command name looked up on the PATH; not blank
     */
    public void setPythonExecutable(String pythonExecutable) {
        this.pythonExecutable = pythonExecutable;
    }

    /**
     * The handler modules.
     *
     * @return dotted module names, or null when not set
     */
    public List<String> getHandlerModules() {
        return handlerModules;
    }

    /**
     * Sets the handler modules; see {@link PythonPoolBuilder#handlerModules(String...)}.
     *
     * @param handlerModules dotted module names such as {@code my_pkg.handlers}
     */
    public void setHandlerModules(List<String> handlerModules) {
        this.handlerModules = handlerModules;
    }

    /**
     * The folders put on the workers' {@code sys.path}.
     *
     * @return the folders, or null when not set
     */
    public List<Path> getPythonPath() {
        return pythonPath;
    }

    /**
     * Sets the folders put on the workers' {@code sys.path}; see {@link PythonPoolBuilder#pythonPath(Path...)}.
     *
     * @param pythonPath folders to import handler modules from
     */
    public void setPythonPath(List<Path> pythonPath) {
        this.pythonPath = pythonPath;
    }

    /**
     * The workers' environment variables.
     *
     * @return names and values, or null when not set
     */
    public Map<String, String> getEnvironment() {
        return environment;
    }

    /**
     * Sets the workers' environment variables; see {@link PythonPoolBuilder#environment(Map)}.
     *
     * @param environment names and values
     */
    public void setEnvironment(Map<String, String> environment) {
        this.environment = environment;
    }

    /**
     * The workers' working directory.
     *
     * @return the folder, or null when not set
     */
    public Path getWorkingDirectory() {
        return workingDirectory;
    }

    /**
     * Sets the workers' working directory; see {@link PythonPoolBuilder#workingDirectory(Path)}.
     *
     * @param workingDirectory an existing directory
     */
    public void setWorkingDirectory(Path workingDirectory) {
        this.workingDirectory = workingDirectory;
    }

    /**
     * How long a worker may take to start.
     *
     * @return the timeout, or null when not set
     */
    public Duration getStartupTimeout() {
        return startupTimeout;
    }

    /**
     * Sets how long a worker may take to start; see {@link PythonPoolBuilder#startupTimeout(Duration)}.
     *
     * @param startupTimeout a positive duration
     */
    public void setStartupTimeout(Duration startupTimeout) {
        this.startupTimeout = startupTimeout;
    }

    /**
     * The default deadline of a call.
     *
     * @return the timeout, or null when not set
     */
    public Duration getCallTimeout() {
        return callTimeout;
    }

    /**
     * Sets the default deadline of a call; see {@link PythonPoolBuilder#callTimeout(Duration)}.
     *
     * @param callTimeout a positive duration
     */
    public void setCallTimeout(Duration callTimeout) {
        this.callTimeout = callTimeout;
    }

    /**
     * How long closing lets accepted calls finish.
     *
     * @return the grace period, or null when not set
     */
    public Duration getCloseGracePeriod() {
        return closeGracePeriod;
    }

    /**
     * Sets how long closing lets accepted calls finish; see {@link PythonPoolBuilder#closeGracePeriod(Duration)}.
     *
     * @param closeGracePeriod zero or a positive duration
     */
    public void setCloseGracePeriod(Duration closeGracePeriod) {
        this.closeGracePeriod = closeGracePeriod;
    }

    /**
     * How many calls may wait for a worker.
     *
     * @return the bound, or null when not set
     */
    public Integer getMaxQueuedCalls() {
        return maxQueuedCalls;
    }

    /**
     * Sets how many calls may wait for a worker; see {@link PythonPoolBuilder#maxQueuedCalls(int)}.
     *
     * @param maxQueuedCalls 0 to 10,000,000
     */
    public void setMaxQueuedCalls(Integer maxQueuedCalls) {
        this.maxQueuedCalls = maxQueuedCalls;
    }

    /**
     * What a call does when the queue is full.
     *
     * @return the policy, or null when not set
     */
    public SaturationPolicy getSaturationPolicy() {
        return saturationPolicy;
    }

    /**
     * Sets what a call does when the queue is full; see {@link PythonPoolBuilder#saturationPolicy(SaturationPolicy)}.
     *
     * @param saturationPolicy FAIL or WAIT
     */
    public void setSaturationPolicy(SaturationPolicy saturationPolicy) {
        this.saturationPolicy = saturationPolicy;
    }

    /**
     * How many calls one worker holds at once.
     *
     * @return the bound, or null when not set
     */
    public Integer getMaxInFlightPerWorker() {
        return maxInFlightPerWorker;
    }

    /**
     * Sets how many calls one worker holds at once; see {@link PythonPoolBuilder#maxInFlightPerWorker(int)}.
     *
     * @param maxInFlightPerWorker 1 to 1024
     */
    public void setMaxInFlightPerWorker(Integer maxInFlightPerWorker) {
        this.maxInFlightPerWorker = maxInFlightPerWorker;
    }

    /**
     * How many calls of one session run at once.
     *
     * @return the bound, or null when not set
     */
    public Integer getMaxInFlightPerSession() {
        return maxInFlightPerSession;
    }

    /**
     * Sets how many calls of one session run at once; see {@link PythonPoolBuilder#maxInFlightPerSession(int)}.
     *
     * @param maxInFlightPerSession 1 to 1024
     */
    public void setMaxInFlightPerSession(Integer maxInFlightPerSession) {
        this.maxInFlightPerSession = maxInFlightPerSession;
    }

    /**
     * How many calls of one session may wait.
     *
     * @return the bound, or null when not set
     */
    public Integer getMaxQueuedCallsPerSession() {
        return maxQueuedCallsPerSession;
    }

    /**
     * Sets how many calls of one session may wait; see {@link PythonPoolBuilder#maxQueuedCallsPerSession(int)}.
     *
     * @param maxQueuedCallsPerSession 1 to 10,000,000
     */
    public void setMaxQueuedCallsPerSession(Integer maxQueuedCallsPerSession) {
        this.maxQueuedCallsPerSession = maxQueuedCallsPerSession;
    }

    /**
     * How many threads run handlers in each worker.
     *
     * @return the number, or null when not set
     */
    public Integer getHandlerThreads() {
        return handlerThreads;
    }

    /**
     * Sets how many threads run handlers in each worker; see {@link PythonPoolBuilder#handlerThreads(int)}.
     *
     * @param handlerThreads 1 to 1024, and at most max-in-flight-per-worker
     */
    public void setHandlerThreads(Integer handlerThreads) {
        this.handlerThreads = handlerThreads;
    }

    /**
     * How long a blocking caller watches for its reply before it parks.
     *
     * @return the spin, or null when not set
     */
    public Duration getCallerSpin() {
        return callerSpin;
    }

    /**
     * Sets how long a blocking caller watches for its reply before it parks; see
     * {@link PythonPoolBuilder#callerSpin(Duration)}.
     *
     * @param callerSpin 0 to 1 ms
     */
    public void setCallerSpin(Duration callerSpin) {
        this.callerSpin = callerSpin;
    }

    /**
     * How long an unused session lives.
     *
     * @return the time to live, or null when not set
     */
    public Duration getSessionIdleTtl() {
        return sessionIdleTtl;
    }

    /**
     * Sets how long an unused session lives; see {@link PythonPoolBuilder#sessionIdleTtl(Duration)}.
     *
     * @param sessionIdleTtl a positive duration
     */
    public void setSessionIdleTtl(Duration sessionIdleTtl) {
        this.sessionIdleTtl = sessionIdleTtl;
    }

    /**
     * How many sessions the pool keeps before it closes idle ones.
     *
     * @return the bound, or null when not set
     */
    public Integer getMaxSessions() {
        return maxSessions;
    }

    /**
     * Sets how many sessions the pool keeps before it closes idle ones; see {@link PythonPoolBuilder#maxSessions(int)}.
     *
     * @param maxSessions 1 to 10,000,000
     */
    public void setMaxSessions(Integer maxSessions) {
        this.maxSessions = maxSessions;
    }

    /**
     * The largest frame either side accepts.
     *
     * @return the size, or null when not set
     */
    public DataSize getMaxFrameBytes() {
        return maxFrameBytes;
    }

    /**
     * Sets the largest frame either side accepts; see {@link PythonPoolBuilder#maxFrameBytes(int)}.
     *
     * @param maxFrameBytes a size such as {@code 16MB}, or a number of bytes; at least 1 KB
     */
    public void setMaxFrameBytes(DataSize maxFrameBytes) {
        this.maxFrameBytes = maxFrameBytes;
    }

    /**
     * How often workers are checked.
     *
     * @return the interval, or null when not set
     */
    public Duration getHealthCheckInterval() {
        return healthCheckInterval;
    }

    /**
     * Sets how often workers are checked; see {@link PythonPoolBuilder#healthCheckInterval(Duration)}.
     *
     * @param healthCheckInterval a positive duration
     */
    public void setHealthCheckInterval(Duration healthCheckInterval) {
        this.healthCheckInterval = healthCheckInterval;
    }

    /**
     * How many workers start at once.
     *
     * @return the bound, or null when not set
     */
    public Integer getMaxConcurrentStarts() {
        return maxConcurrentStarts;
    }

    /**
     * Sets how many workers start at once; see {@link PythonPoolBuilder#maxConcurrentStarts(int)}.
     *
     * @param maxConcurrentStarts 1 to 1024
     */
    public void setMaxConcurrentStarts(Integer maxConcurrentStarts) {
        this.maxConcurrentStarts = maxConcurrentStarts;
    }

    /**
     * After how many failed starts in a row a worker slot is given up for a while.
     *
     * @return the number, or null when not set
     */
    public Integer getMaxConsecutiveStartFailures() {
        return maxConsecutiveStartFailures;
    }

    /**
     * Sets after how many failed starts in a row a worker slot is given up for a while; see
     * {@link PythonPoolBuilder#maxConsecutiveStartFailures(int)}.
     *
     * @param maxConsecutiveStartFailures 1 to 1000
     */
    public void setMaxConsecutiveStartFailures(Integer maxConsecutiveStartFailures) {
        this.maxConsecutiveStartFailures = maxConsecutiveStartFailures;
    }

    /**
     * How long a given-up worker slot waits before it tries again.
     *
     * @return the delay, or null when not set
     */
    public Duration getSlotRetryAfter() {
        return slotRetryAfter;
    }

    /**
     * Sets how long a given-up worker slot waits before it tries again; see
     * {@link PythonPoolBuilder#slotRetryAfter(Duration)}.
     *
     * @param slotRetryAfter a positive duration
     */
    public void setSlotRetryAfter(Duration slotRetryAfter) {
        this.slotRetryAfter = slotRetryAfter;
    }

    /**
     * After how many calls a worker is replaced.
     *
     * @return the number, or null when not set
     */
    public Long getRecycleAfterCalls() {
        return recycleAfterCalls;
    }

    /**
     * Sets after how many calls a worker is replaced; see {@link PythonPoolBuilder#recycleAfterCalls(long)}.
     *
     * @param recycleAfterCalls 0 (never) or a positive number
     */
    public void setRecycleAfterCalls(Long recycleAfterCalls) {
        this.recycleAfterCalls = recycleAfterCalls;
    }

    /**
     * At what age a worker is replaced.
     *
     * @return the age, or null when not set
     */
    public Duration getRecycleAfterAge() {
        return recycleAfterAge;
    }

    /**
     * Sets at what age a worker is replaced; see {@link PythonPoolBuilder#recycleAfterAge(Duration)}.
     *
     * @param recycleAfterAge a positive duration
     */
    public void setRecycleAfterAge(Duration recycleAfterAge) {
        this.recycleAfterAge = recycleAfterAge;
    }

    /**
     * Above what resident memory a worker is replaced.
     *
     * @return the size, or null when not set
     */
    public DataSize getRecycleAboveRssBytes() {
        return recycleAboveRssBytes;
    }

    /**
     * Sets above what resident memory a worker is replaced; see
     * {@link PythonPoolBuilder#recycleAboveRssBytes(long)}.
     *
     * @param recycleAboveRssBytes a size such as {@code 2GB}, or a number of bytes; 0 for never
     */
    public void setRecycleAboveRssBytes(DataSize recycleAboveRssBytes) {
        this.recycleAboveRssBytes = recycleAboveRssBytes;
    }

    /**
     * Whether leftover workers of earlier runs are ended.
     *
     * @return the flag, or null when not set
     */
    public Boolean getReapOrphans() {
        return reapOrphans;
    }

    /**
     * Sets whether leftover workers of earlier runs are ended; see {@link PythonPoolBuilder#reapOrphans(boolean)}.
     *
     * @param reapOrphans false to leave them alone
     */
    public void setReapOrphans(Boolean reapOrphans) {
        this.reapOrphans = reapOrphans;
    }

    /**
     * Whether workers are forked from a template process.
     *
     * @return the flag, or null when not set
     */
    public Boolean getForkServer() {
        return forkServer;
    }

    /**
     * Sets whether workers are forked from a template process; see {@link PythonPoolBuilder#forkServer(boolean)}.
     *
     * @param forkServer false to spawn every worker as a fresh interpreter
     */
    public void setForkServer(Boolean forkServer) {
        this.forkServer = forkServer;
    }

    /**
     * Whether the pool registers its MXBean.
     *
     * @return the flag, or null when not set
     */
    public Boolean getJmx() {
        return jmx;
    }

    /**
     * Sets whether the pool registers its MXBean; see {@link PythonPoolBuilder#jmx(boolean)}.
     *
     * @param jmx true to register it under {@code io.pypool:type=PythonPool,name=<pool name>}
     */
    public void setJmx(Boolean jmx) {
        this.jmx = jmx;
    }

    /**
     * The level of the workers' plain output lines.
     *
     * @return the level, or null when not set
     */
    public org.slf4j.event.Level getWorkerOutputLevel() {
        return workerOutputLevel;
    }

    /**
     * Sets the level of the workers' plain output lines; see {@link PythonPoolBuilder#workerOutputLevel}.
     *
     * @param workerOutputLevel ERROR, WARN, INFO, DEBUG or TRACE
     */
    public void setWorkerOutputLevel(org.slf4j.event.Level workerOutputLevel) {
        this.workerOutputLevel = workerOutputLevel;
    }

    /**
     * Gives {@code builder} every setting that is set here, except the name; lists add to what
     * the builder has, environment variables replace those of the same name.
     */
    void applyTo(PythonPoolBuilder builder) {
        eachSetting((option, setter) -> {
            if (!"name".equals(option)) {
                setter.accept(builder);
            }
        });
    }

    /**
     * Lets the builder's own setters judge every setting that is set here, each on a builder of its
     * own; each one refused is an error on its field, with the builder's reason.
     */
    void validate(Errors errors) {
        eachSetting((option, setter) -> {
            try {
                setter.accept(PythonPool.builder());
            } catch (IllegalArgumentException | NullPointerException e) {
                errors.rejectValue(option, "pypool.invalid", e.getMessage());
            }
        });
    }

    /** Every setting that is set here: its option name, and how to give it to a builder. */
    private void eachSetting(BiConsumer<String, Consumer<PythonPoolBuilder>> visitor) {
        visit(visitor, "name", name, PythonPoolBuilder::name);
        visit(visitor, "workers", workers, PythonPoolBuilder::workers);
        visit(visitor, "minReadyWorkers", minReadyWorkers, PythonPoolBuilder::minReadyWorkers);
        visit(visitor, "pythonExecutable", pythonExecutable, PythonPoolBuilder::pythonExecutable);
        visit(visitor, "handlerModules", handlerModules, (b, m) -> b.handlerModules(m.toArray(String[]::new)));
        visit(visitor, "pythonPath", pythonPath, (b, p) -> b.pythonPath(p.toArray(Path[]::new)));
        visit(visitor, "environment", environment, PythonPoolBuilder::environment);
        visit(visitor, "workingDirectory", workingDirectory, PythonPoolBuilder::workingDirectory);
        visit(visitor, "startupTimeout", startupTimeout, PythonPoolBuilder::startupTimeout);
        visit(visitor, "callTimeout", callTimeout, PythonPoolBuilder::callTimeout);
        visit(visitor, "closeGracePeriod", closeGracePeriod, PythonPoolBuilder::closeGracePeriod);
        visit(visitor, "maxQueuedCalls", maxQueuedCalls, PythonPoolBuilder::maxQueuedCalls);
        visit(visitor, "saturationPolicy", saturationPolicy, PythonPoolBuilder::saturationPolicy);
        visit(visitor, "maxInFlightPerWorker", maxInFlightPerWorker, PythonPoolBuilder::maxInFlightPerWorker);
        visit(visitor, "maxInFlightPerSession", maxInFlightPerSession, PythonPoolBuilder::maxInFlightPerSession);
        visit(visitor, "maxQueuedCallsPerSession", maxQueuedCallsPerSession,
                PythonPoolBuilder::maxQueuedCallsPerSession);
        visit(visitor, "handlerThreads", handlerThreads, PythonPoolBuilder::handlerThreads);
        visit(visitor, "callerSpin", callerSpin, PythonPoolBuilder::callerSpin);
        visit(visitor, "sessionIdleTtl", sessionIdleTtl, PythonPoolBuilder::sessionIdleTtl);
        visit(visitor, "maxSessions", maxSessions, PythonPoolBuilder::maxSessions);
        visit(visitor, "maxFrameBytes", maxFrameBytes, (b, s) -> b.maxFrameBytes(toInt("maxFrameBytes", s)));
        visit(visitor, "healthCheckInterval", healthCheckInterval, PythonPoolBuilder::healthCheckInterval);
        visit(visitor, "maxConcurrentStarts", maxConcurrentStarts, PythonPoolBuilder::maxConcurrentStarts);
        visit(visitor, "maxConsecutiveStartFailures", maxConsecutiveStartFailures,
                PythonPoolBuilder::maxConsecutiveStartFailures);
        visit(visitor, "slotRetryAfter", slotRetryAfter, PythonPoolBuilder::slotRetryAfter);
        visit(visitor, "recycleAfterCalls", recycleAfterCalls, PythonPoolBuilder::recycleAfterCalls);
        visit(visitor, "recycleAfterAge", recycleAfterAge, PythonPoolBuilder::recycleAfterAge);
        visit(visitor, "recycleAboveRssBytes", recycleAboveRssBytes, (b, s) -> b.recycleAboveRssBytes(s.toBytes()));
        visit(visitor, "reapOrphans", reapOrphans, PythonPoolBuilder::reapOrphans);
        visit(visitor, "forkServer", forkServer, PythonPoolBuilder::forkServer);
        visit(visitor, "jmx", jmx, PythonPoolBuilder::jmx);
        visit(visitor, "workerOutputLevel", workerOutputLevel, PythonPoolBuilder::workerOutputLevel);
    }

    private static <T> void visit(BiConsumer<String, Consumer<PythonPoolBuilder>> visitor, String option, T value,
                                  BiConsumer<PythonPoolBuilder, T> setter) {
        if (value != null) {
            visitor.accept(option, builder -> setter.accept(builder, value));
        }
    }

    private static int toInt(String option, DataSize size) {
        long bytes = size.toBytes();
        if (bytes > Integer.MAX_VALUE || bytes < Integer.MIN_VALUE) {
            throw new IllegalArgumentException(option + " = '" + size.toBytes() + "' is invalid: at most "
                    + Integer.MAX_VALUE + " bytes");
        }
        return (int) bytes;
    }
}
