package io.pypool;

import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The engine's side of a {@link CallTracer}: starts a scope for a caller's call and ends it when
 * the call completes. Exists only when a tracer is set, so untraced pools do no extra work. A
 * tracer that throws is logged (at WARN once, then at DEBUG) and the call goes on untraced.
 */
final class CallTracing {
    private static final Logger LOG = LoggerFactory.getLogger(PythonPool.class);

    private final String poolName;
    private final CallTracer tracer;
    private final Replies replies;
    private final AtomicBoolean warned = new AtomicBoolean();

    CallTracing(String poolName, CallTracer tracer, Replies replies) {
        this.poolName = poolName;
        this.tracer = tracer;
        this.replies = replies;
    }

    /** The call's scope, or null when the tracer gives none (or throws). */
    CallTracer.Scope start(String command, SessionEntry session) {
        try {
            return tracer.start(poolName, command, session == null ? null : session.id);
        } catch (RuntimeException | LinkageError e) {
            failed(e);
            return null;
        }
    }

    /** The traceparent to send for this scope, or null. */
    String traceparent(CallTracer.Scope scope) {
        if (scope == null) {
            return null;
        }
        try {
            return scope.traceparent();
        } catch (RuntimeException | LinkageError e) {
            failed(e);
            return null;
        }
    }

    /** Ends the scope when the call completes, with the failure its caller gets. */
    void watch(Call call, CallTracer.Scope scope) {
        call.whenComplete((reply, error) -> {
            Throwable failure = error != null ? PoolEngine.unwrap(error)
                    : reply.kind() == FrameCodec.REPLY_ERROR ? decoded(reply, call) : null;
            end(scope, failure == null ? CallOutcome.SUCCESS : CallOutcome.of(failure), failure);
        });
    }

    /** Ends the scope of a call that failed before it was made (its arguments could not be sent). */
    void end(CallTracer.Scope scope, CallOutcome outcome, Throwable failure) {
        try {
            scope.end(outcome, failure);
        } catch (RuntimeException | LinkageError e) {
            failed(e);
        }
    }

    private Throwable decoded(Call.Reply reply, Call call) {
        try {
            replies.decode(reply, call, Object.class);
            return null;
        } catch (RuntimeException e) {
            return e;
        }
    }

    private void failed(Throwable e) {
        if (warned.compareAndSet(false, true)) {
            LOG.warn("pool '{}': tracer {} threw; calls go on untraced (later failures are logged at DEBUG)",
                    poolName, tracer, e);
        } else {
            LOG.debug("pool '{}': tracer {} threw", poolName, tracer, e);
        }
    }
}
