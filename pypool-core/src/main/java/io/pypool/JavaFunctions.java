package io.pypool;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.NullNode;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the Java functions Python handlers call back ({@code pypool.call_java}): each CALL_JAVA
 * frame is handed from the worker's reader to the Java function executor at once (a function may
 * block, and call the pool again), and its result or failure goes back to the worker that asked.
 * While a function runs, its thread knows the call it serves, so that nested calls inherit that
 * call's remaining time and cannot wait on its own session (see {@link #outerCall}).
 */
final class JavaFunctions {
    private static final Logger LOG = LoggerFactory.getLogger(PythonPool.class);
    /** The call whose handler called back, for the thread that runs the function. */
    private static final ThreadLocal<Call> SERVING = new ThreadLocal<>();

    private final PoolEngine pool;
    private final Map<String, JavaFunction> functions;
    private final Executor userExecutor;
    private ExecutorService ownExecutor; // guarded by this; made at the first callback when the user gave none

    JavaFunctions(PoolEngine pool, Map<String, JavaFunction> functions, Executor userExecutor) {
        this.pool = pool;
        this.functions = Map.copyOf(functions);
        this.userExecutor = userExecutor;
    }

    /** The call whose handler called back into the function this thread runs, or null. */
    static Call outerCall() {
        return SERVING.get();
    }

    /** On the worker's reader thread: never blocks, never runs the function here. */
    void onCall(Worker w, FrameCodec.Frame frame) {
        w.callbackStarted();
        try {
            executor().execute(() -> run(w, frame));
        } catch (RejectedExecutionException e) {
            answerError(w, frame.requestId(), "java.util.concurrent.RejectedExecutionException",
                    "the pool's Java function executor refused the call: " + e.getMessage());
            w.callbackAnswered();
        }
    }

    private Executor executor() {
        if (userExecutor != null) {
            return userExecutor;
        }
        synchronized (this) {
            if (ownExecutor == null) {
                // Elastic: functions may block on nested calls, and a fixed pool could run out under them.
                ownExecutor = Executors.newCachedThreadPool(r -> Worker.daemon("pypool-" + pool.name() + "-java-fn", r));
            }
            return ownExecutor;
        }
    }

    private void run(Worker w, FrameCodec.Frame frame) {
        try {
            runFunction(w, frame);
        } finally {
            w.callbackAnswered();
            if (w.isReady()) {
                pool.dispatcher().pump(w); // calls held back while it waited may go now
            }
        }
    }

    private void runFunction(Worker w, FrameCodec.Frame frame) {
        long id = frame.requestId();
        String name = "?";
        try {
            JsonNode body = pool.mapper().readTree(frame.body());
            if (frame.attachments() != null) {
                body = Attachments.resolve(body, frame.attachments());
            }
            name = body.path("fn").asText("");
            JavaFunction fn = functions.get(name);
            if (fn == null) {
                answerError(w, id, "pypool.UnknownJavaFunction", "no Java function '" + name + "' is registered with pool '"
                        + pool.name() + "'; registered: " + new TreeSet<>(functions.keySet()));
                return;
            }
            Call outer = w.pendingCall(body.path("request").asLong(0));
            if (outer != null && outer.isDone()) {
                answerError(w, id, "pypool.CallEnded", "call '" + outer.command + "' has already ended (timed out or "
                        + "cancelled); Java function '" + name + "' was not run for it");
                return;
            }
            JsonNode args = body.hasNonNull("args") ? body.get("args") : NullNode.getInstance();
            Object result = invoke(fn, args, outer);
            w.sendControl(FrameCodec.encodeValue(pool.mapper(), FrameCodec.JAVA_RESULT, id, result,
                    "the result of Java function '" + name + "'", pool.settings().maxFrameBytes()), true);
        } catch (Exception | StackOverflowError e) {
            answerError(w, id, e.getClass().getName(), messageOf(e));
        } catch (Error e) {
            answerError(w, id, e.getClass().getName(), messageOf(e));
            throw e;
        }
    }

    /** The message of what a function threw; never throws, whatever its getMessage() does. */
    private static String messageOf(Throwable e) {
        try {
            String message = e.getMessage();
            return message == null ? "" : message;
        } catch (Throwable broken) {
            return "(its message could not be read: " + broken.getClass().getName() + ")";
        }
    }

    /**
     * Runs the function for {@code outer}; if that call ends meanwhile (its deadline, a cancel),
     * the function's thread is interrupted, so that nested calls and waits give up with it.
     */
    private static Object invoke(JavaFunction fn, JsonNode args, Call outer) throws Exception {
        Call previous = SERVING.get();
        SERVING.set(outer);
        Thread me = Thread.currentThread();
        Object guard = new Object();
        boolean[] running = {true};
        boolean[] interruptedByUs = {false};
        if (outer != null) {
            outer.whenComplete((r, e) -> {
                synchronized (guard) {
                    if (running[0]) {
                        interruptedByUs[0] = true;
                        me.interrupt();
                    }
                }
            });
        }
        try {
            return fn.apply(args);
        } finally {
            synchronized (guard) {
                running[0] = false;
                if (interruptedByUs[0]) {
                    Thread.interrupted(); // ours, not the executor's: the thread goes back clean
                }
            }
            SERVING.set(previous);
        }
    }

    private void answerError(Worker w, long id, String type, String message) {
        try {
            byte[] body = pool.mapper().writeValueAsBytes(Map.of("type", type, "message", message));
            w.sendControl(FrameCodec.control(FrameCodec.JAVA_ERROR, id, body), true);
        } catch (Exception e) {
            LOG.warn("pool '{}': the failure of a Java function could not be sent to worker {}: {}", pool.name(), w.id,
                    e.toString());
        }
    }

    void shutdown() {
        synchronized (this) {
            if (ownExecutor != null) {
                ownExecutor.shutdownNow();
            }
        }
    }
}
