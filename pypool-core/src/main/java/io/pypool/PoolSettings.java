package io.pypool;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executor;

/** A pool's configuration, fixed at build time. */
record PoolSettings(
        String name,
        String runId,
        int workers,
        int minReadyWorkers,
        String pythonExecutable,
        List<String> handlerModules,
        List<Path> pythonPath,
        Map<String, String> environment,
        Path workingDirectory,
        Duration startupTimeout,
        Duration callTimeout,
        Duration closeGracePeriod,
        int maxQueuedCalls,
        SaturationPolicy saturationPolicy,
        int maxInFlightPerWorker,
        int maxInFlightPerSession,
        int maxQueuedCallsPerSession,
        int handlerThreads,
        Duration callerSpin,
        Duration sessionIdleTtl,
        int maxSessions,
        int maxFrameBytes,
        Duration healthCheckInterval,
        int maxConcurrentStarts,
        int maxConsecutiveStartFailures,
        java.time.Duration slotRetryAfter,
        long recycleAfterCalls,
        Duration recycleAfterAge,
        long recycleAboveRssBytes,
        boolean reapOrphans,
        boolean forkServer,
        boolean jmx,
        PoolClock clock,
        Executor callbackExecutor,
        ObjectMapper objectMapper,
        List<PoolListener> listeners,
        CallTracer tracer,
        Map<String, JavaFunction> javaFunctions,
        Executor javaFunctionExecutor,
        org.slf4j.event.Level workerOutputLevel,
        WorkerBackend backend) {}
