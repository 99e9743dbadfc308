package io.pypool.dspy;

import com.fasterxml.jackson.databind.JsonNode;
import io.pypool.PythonException;
import io.pypool.PythonPool;
import io.pypool.PythonPoolBuilder;
import java.time.Duration;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * DSPy programs from Java, on a pool whose workers load {@code pypool.dspy}:
 * <pre>{@code
 * try (PythonPool pool = Dspy.poolBuilder().workers(2).build()) {
 *     Dspy dspy = Dspy.on(pool);
 *     dspy.configureLm(LmConfig.model("openai/gpt-4o-mini").apiKey(key));
 *     try (DspySession session = dspy.newSession()) {
 *         DspyProgram qa = session.program("question -> answer");
 *         String answer = qa.execute(Map.of("question", "What is DSPy?")).get("answer");
 *     }
 * }
 * }</pre>
 * The LM configuration reaches every worker, including ones started later; programs live in
 * their session and are rebuilt on another worker if theirs is lost.
 */
public final class Dspy {
    /** The key under which the LM is given to every worker at setup. */
    static final String LM_SETUP_KEY = "pypool.dspy.lm";

    private final PythonPool pool;

    private Dspy(PythonPool pool) {
        this.pool = pool;
    }

    public static Dspy on(PythonPool pool) {
        return new Dspy(Objects.requireNonNull(pool, "pool"));
    }

    /**
     * A pool builder set up for DSPy: the {@code pypool.dspy} handlers, 8 calls at once per
     * worker (LM calls wait on the network, not the CPU), and a 120 s call deadline.
     */
    public static PythonPoolBuilder poolBuilder() {
        return PythonPool.builder().handlerModules("pypool.dspy").maxInFlightPerWorker(8)
                .callTimeout(Duration.ofSeconds(120));
    }

    public PythonPool pool() {
        return pool;
    }

    /**
     * Sets the LM on every worker, and on every worker that starts later, before it serves.
     * Returns once every live worker has it.
     */
    public void configureLm(LmConfig lm) throws InterruptedException {
        try {
            pool.configureWorkers(LM_SETUP_KEY, "dspy.configure_lm", lm.asArguments()).get(2, TimeUnit.MINUTES);
        } catch (ExecutionException e) {
            throw translate(e.getCause());
        } catch (TimeoutException e) {
            throw new DspyException("configuring " + lm + " on every worker of pool '" + pool.name()
                    + "' took over 2 minutes", e);
        }
    }

    /** Whether the workers can import DSPy, its version, and the LM in force; from one worker. */
    public JsonNode status() throws InterruptedException {
        return pool.call("dspy.status", null);
    }

    public DspySession session(String id) {
        return new DspySession(this, pool.session(id));
    }

    public DspySession newSession() {
        return session(UUID.randomUUID().toString());
    }

    /** Turns the Python side's errors into the DSPy exceptions; everything else passes as it is. */
    static RuntimeException translate(Throwable t) {
        if (t instanceof PythonException e) {
            switch (e.pythonType()) {
                case "pypool.dspy.DspyUnavailable":
                    return new DspyUnavailableException(e.pythonMessage(), e);
                case "pypool.dspy.ProgramNotFound":
                    return new ProgramNotFoundException(e.pythonMessage(), e);
                case "pypool.dspy.LmNotConfigured":
                    return new LmNotConfiguredException(e.pythonMessage() + " (Dspy.configureLm)", e);
                default:
                    return e;
            }
        }
        if (t instanceof RuntimeException re) {
            return re;
        }
        return new DspyException(String.valueOf(t), t);
    }
}
