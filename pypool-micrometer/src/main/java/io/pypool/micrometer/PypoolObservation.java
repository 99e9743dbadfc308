package io.pypool.micrometer;

import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationRegistry;
import io.pypool.CallOutcome;
import io.pypool.CallTracer;
import io.pypool.PythonPoolBuilder;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * A {@link CallTracer} that makes each call a Micrometer {@link Observation} named
 * {@value #NAME} (contextual name {@code "pypool <command>"}), a child of the caller's current
 * observation, with low-cardinality key values {@code pool}, {@code command} and, once it ends,
 * {@code outcome} (a {@link CallOutcome} name), the session id as the high-cardinality
 * {@code session}, and the caller's exception as its error:
 *
 * <pre>{@code
 * PythonPool.builder()
 *     .tracer(PypoolObservation.of(observationRegistry, () -> {
 *         Span span = tracer.currentSpan(); // micrometer-tracing: the call's own span here
 *         return span == null ? null : PypoolObservation.traceparent(
 *                 span.context().traceId(), span.context().spanId(), span.context().sampled());
 *     }))
 * }</pre>
 *
 * <p>The traceparent supplier runs on the caller's thread with the call's observation opened, so
 * a tracing bridge's current span is the call's; what it gives goes out with the request, where
 * the handler reads it as {@code pypool.traceparent()}. Like meter tags, the {@code command} key
 * value takes the first {@link #DEFAULT_MAX_COMMANDS} distinct names, and {@code other} past them.
 */
public final class PypoolObservation implements CallTracer {
    /** The observation's name. */
    public static final String NAME = "pypool.call";
    /** How many distinct command names the {@code command} key value takes. */
    public static final int DEFAULT_MAX_COMMANDS = 100;

    private final ObservationRegistry registry;
    private final Supplier<String> traceparent;
    private final CommandTags commands = new CommandTags(DEFAULT_MAX_COMMANDS);

    private PypoolObservation(ObservationRegistry registry, Supplier<String> traceparent) {
        this.registry = Objects.requireNonNull(registry, "registry");
        this.traceparent = traceparent;
    }

    /**
     * Observations of calls, sending no traceparent.
     *
     * @param registry where the observations go
     * @return a tracer for {@link PythonPoolBuilder#tracer(CallTracer)}
     */
    public static PypoolObservation of(ObservationRegistry registry) {
        return new PypoolObservation(registry, null);
    }

    /**
     * Observations of calls, each sending the traceparent {@code traceparent} gives while the
     * call's observation is open on the caller's thread.
     *
     * @param registry    where the observations go
     * @param traceparent the W3C traceparent of the current span (see {@link #traceparent(String, String, Boolean)}),
     *                    or null for none
     * @return a tracer for {@link PythonPoolBuilder#tracer(CallTracer)}
     */
    public static PypoolObservation of(ObservationRegistry registry, Supplier<String> traceparent) {
        return new PypoolObservation(registry, Objects.requireNonNull(traceparent, "traceparent"));
    }

    /**
     * A W3C traceparent, version 00, from a span's ids (as micrometer-tracing's
     * {@code TraceContext} gives them).
     *
     * @param traceId the trace id, 32 hex digits (16 are padded with zeros)
     * @param spanId  the span id, 16 hex digits
     * @param sampled whether the span is sampled; null counts as not sampled
     * @return {@code 00-<trace id>-<span id>-<01 or 00>}, or null if the ids are not hex of those lengths
     */
    public static String traceparent(String traceId, String spanId, Boolean sampled) {
        if (traceId != null && traceId.length() == 16) {
            traceId = "0000000000000000" + traceId;
        }
        if (!hex(traceId, 32) || !hex(spanId, 16)) {
            return null;
        }
        return "00-" + traceId + "-" + spanId + (Boolean.TRUE.equals(sampled) ? "-01" : "-00");
    }

    private static boolean hex(String s, int length) {
        if (s == null || s.length() != length) {
            return false;
        }
        boolean nonZero = false;
        for (int i = 0; i < length; i++) {
            char c = s.charAt(i);
            if (!(c >= '0' && c <= '9' || c >= 'a' && c <= 'f')) {
                return false;
            }
            nonZero |= c != '0';
        }
        return nonZero;
    }

    /**
     * Starts the call's observation, a child of the current one.
     *
     * @param pool      the pool's name
     * @param command   the command called
     * @param sessionId the session's id, or null
     * @return the call's scope: its traceparent, and the observation's stop
     */
    @Override
    public Scope start(String pool, String command, String sessionId) {
        Observation observation = Observation.createNotStarted(NAME, registry)
                .contextualName("pypool " + command)
                .lowCardinalityKeyValue("pool", pool)
                .lowCardinalityKeyValue("command", commands.tagOf(command));
        if (sessionId != null) {
            observation.highCardinalityKeyValue("session", sessionId);
        }
        observation.start();
        String sent = null;
        if (traceparent != null) {
            Observation.Scope scope = observation.openScope();
            try {
                sent = traceparent.get();
            } finally {
                scope.close();
            }
        }
        return new CallScope(observation, sent);
    }

    private record CallScope(Observation observation, String traceparent) implements Scope {
        @Override
        public void end(CallOutcome outcome, Throwable failure) {
            observation.lowCardinalityKeyValue("outcome", outcome.name());
            if (failure != null) {
                observation.error(failure);
            }
            observation.stop();
        }
    }

    @Override
    public String toString() {
        return "PypoolObservation[" + registry + "]";
    }
}
