package io.pypool.dspy;

import com.fasterxml.jackson.databind.JsonNode;
import io.pypool.CallOptions;
import io.pypool.PythonPool;
import io.pypool.PythonPoolBuilder;
import io.pypool.StreamOptions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;

/**
 * DSPy programs from Java, on a pool whose workers load {@code pypool.dspy}:
 * <pre>{@code
 * try (PythonPool pool = Dspy.poolBuilder().workers(2).build()) {
 *     Dspy dspy = Dspy.on(pool);
 *     dspy.configureLm(LmConfig.model("openai/gpt-4o-mini").apiKey(key));
 *     DspyProgram qa = dspy.definePoolProgram("qa", ProgramSpec.of("question -> answer")
 *             .withStateFile(Path.of("qa.json")));                  // optimized in Python, served here
 *     String answer = qa.execute(Map.of("question", "What is DSPy?")).get("answer");
 * }
 * }</pre>
 * The LM and pool-wide programs reach every worker, including ones started later; session
 * programs live in their session and are rebuilt wherever it goes.
 */
public final class Dspy {
    /** The key under which the LM is given to every worker at setup. */
    static final String LM_SETUP_KEY = "pypool.dspy.lm";
    static final String PROGRAM_SETUP_KEY = "pypool.dspy.program.";
    private static final Duration SETUP_WAIT = Duration.ofMinutes(2);

    private final PythonPool pool;

    private Dspy(PythonPool pool) {
        this.pool = pool;
    }

    /**
     * DSPy on a pool whose workers load {@code pypool.dspy} (a pool from {@link #poolBuilder()}, or
     * one given that handler module). Cheap: it holds no state of its own, so any number may share a pool.
     *
     * @param pool the pool; not null. Closing it is the caller's business.
     * @return DSPy on that pool
     */
    public static Dspy on(PythonPool pool) {
        return new Dspy(Objects.requireNonNull(pool, "pool"));
    }

    /**
     * A pool builder set up for DSPy: the {@code pypool.dspy} handlers, 16 calls at once per
     * worker (LM calls wait on the network, not the CPU), and a 120 s call deadline.
     *
     * @return a builder to go on configuring (workers, interpreter with DSPy, ...) before {@code build()}
     */
    public static PythonPoolBuilder poolBuilder() {
        return PythonPool.builder().handlerModules("pypool.dspy").maxInFlightPerWorker(16)
                .callTimeout(Duration.ofSeconds(120));
    }

    /**
     * The pool these programs run on.
     *
     * @return the pool given to {@link #on(PythonPool)}
     */
    public PythonPool pool() {
        return pool;
    }

    /**
     * Sets the LM on every worker, and on every worker that starts later, before it serves.
     * It is first built and checked on one worker (settings, DSPy's own checks, whether its
     * backend can be imported) and only then saved as a setup step. Returns once every live
     * worker has it.
     *
     * @param lm the model and its settings; not null
     * @throws LmConfigurationException when it was refused; the workers keep the LM they had
     * @throws DspyUnavailableException if the workers cannot import DSPy
     * @throws DspyException if the live workers did not all take it within two minutes
     * @throws InterruptedException if the calling thread is interrupted while it waits
     */
    public void configureLm(LmConfig lm) throws InterruptedException {
        callPool("dspy.check_lm", lm.asArguments(), CallOptions.DEFAULTS);
        setup(LM_SETUP_KEY, "dspy.configure_lm", lm.asArguments(), "configuring " + lm);
    }

    /**
     * A program present on every worker, replacements included, callable from any session or
     * none: the way to serve one program from all of the pool's slots. The definition is built
     * and checked on one worker before it is saved. A later definition under the same id replaces it.
     *
     * @param programId the program's id within the pool; not blank
     * @param spec what to build: a signature, a module, a factory, with state and tools
     * @return a handle that runs the program outside any session
     * @throws IllegalArgumentException if {@code programId} is blank
     * @throws ProgramBuildException when the definition cannot be built; nothing is saved
     * @throws InterruptedException if the calling thread is interrupted while it waits
     */
    public DspyProgram definePoolProgram(String programId, ProgramSpec spec) throws InterruptedException {
        Map<String, Object> definition = spec.definition(requireId(programId));
        JsonNode info = callPool("dspy.check_program", Map.of("definition", definition), CallOptions.DEFAULTS);
        setup(PROGRAM_SETUP_KEY + programId, "dspy.define_pool_program", Map.of("definition", definition),
                "defining pool program '" + programId + "'");
        return new DspyProgram(this, null, programId, strings(info.get("inputs")), strings(info.get("outputs")));
    }

    /**
     * A handle on a pool-wide program defined earlier, called outside any session.
     *
     * @param programId the id it was defined under; not blank
     * @return a handle that runs it outside any session
     * @throws IllegalArgumentException if {@code programId} is blank
     * @throws ProgramNotFoundException if no pool program has that id
     * @throws InterruptedException if the calling thread is interrupted while it waits
     */
    public DspyProgram poolProgram(String programId) throws InterruptedException {
        JsonNode info = callPool("dspy.get_pool_program_info", Map.of("program_id", requireId(programId)), CallOptions.DEFAULTS);
        return new DspyProgram(this, null, programId, strings(info.get("inputs")), strings(info.get("outputs")));
    }

    /**
     * Removes a pool-wide program from every worker; workers started later no longer get it.
     *
     * @param programId the id it was defined under; not blank
     * @throws IllegalArgumentException if {@code programId} is blank
     * @throws InterruptedException if the calling thread is interrupted while it waits
     */
    public void dropPoolProgram(String programId) throws InterruptedException {
        setup(PROGRAM_SETUP_KEY + requireId(programId), "dspy.drop_pool_program", Map.of("program_id", programId),
                "dropping pool program '" + programId + "'");
    }

    /**
     * The state of a pool-wide program, as {@code dump_state()} gives it.
     *
     * @param programId the id it was defined under
     * @return the state as JSON (demos, instructions, signatures), to save or to give back with
     *         {@link ProgramSpec#withState}
     * @throws ProgramNotFoundException if no pool program has that id
     * @throws InterruptedException if the calling thread is interrupted while it waits
     */
    public JsonNode exportPoolState(String programId) throws InterruptedException {
        return callPool("dspy.export_pool_state", Map.of("program_id", programId), CallOptions.DEFAULTS);
    }

    /**
     * Whether the workers can import DSPy, its version, the LM in force and its checks; from one worker.
     *
     * @return the report as a JSON object
     * @throws InterruptedException if the calling thread is interrupted while it waits
     */
    public JsonNode status() throws InterruptedException {
        return callPool("dspy.status", null, CallOptions.DEFAULTS);
    }

    /**
     * A session under this id, for programs that live in it (see {@link DspySession}).
     *
     * @param id 1 to 256 characters chosen by the caller (a user or conversation id, for example)
     * @return the session, open; close it to free its programs
     * @throws IllegalArgumentException if {@code id} is null, empty or longer than 256 characters
     * @throws io.pypool.PoolClosedException if the pool is closed
     */
    public DspySession session(String id) {
        return new DspySession(this, id);
    }

    /**
     * A session under a new random id.
     *
     * @return a new session, open; close it to free its programs
     * @throws io.pypool.PoolClosedException if the pool is closed
     */
    public DspySession newSession() {
        return session(UUID.randomUUID().toString());
    }

    JsonNode callPool(String command, Object args, CallOptions options) throws InterruptedException {
        try {
            return pool.call(command, args, JsonNode.class, options);
        } catch (RuntimeException e) {
            throw DspyErrors.translate(e);
        }
    }

    CompletableFuture<JsonNode> callPoolAsync(String command, Object args, CallOptions options) {
        return pool.callAsync(command, args, JsonNode.class, options).handle((reply, error) -> {
            if (error != null) {
                throw DspyErrors.translate(error);
            }
            return reply;
        });
    }

    Stream<DspyChunk> streamPool(String command, Object args, StreamOptions options) {
        return ChunkStream.open(() -> pool.stream(command, args, JsonNode.class, options), null);
    }

    private void setup(String key, String command, Object args, String what) throws InterruptedException {
        try {
            pool.configureWorkers(key, command, args).get(SETUP_WAIT.toSeconds(), TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw DspyErrors.translate(e.getCause());
        } catch (TimeoutException e) {
            throw new DspyException(what + " on every worker of pool '" + pool.name() + "' took over "
                    + SETUP_WAIT.toMinutes() + " minutes", e);
        }
    }

    private static String requireId(String programId) {
        if (programId == null || programId.isBlank()) {
            throw new IllegalArgumentException("a program id must not be blank");
        }
        return programId;
    }

    static List<String> strings(JsonNode array) {
        List<String> out = new ArrayList<>();
        if (array != null) {
            array.forEach(n -> out.add(n.asText()));
        }
        return List.copyOf(out);
    }
}
