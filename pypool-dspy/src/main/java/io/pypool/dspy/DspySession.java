package io.pypool.dspy;

import com.fasterxml.jackson.databind.JsonNode;
import io.pypool.CallOptions;
import io.pypool.PythonSession;
import io.pypool.SessionLostException;
import io.pypool.StreamOptions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * A session's DSPy programs. They live in the session's worker; this side keeps their
 * definitions (structure and state) too, so that they outlive the worker's copy: if the worker is
 * lost, the pool rebuilds them on another one before the session's next call; if the session
 * itself ends (idle expiry, eviction past {@code maxSessions}, its worker gone), the next call
 * opens it again under the same id and rebuilds them first. Where they cannot be rebuilt, the
 * call fails with {@link SessionProgramsLostException} saying so.
 *
 * <p>Safe for use from several threads, and what that means for throughput: a session's calls
 * run one at a time, in the order they were made, on its one worker (the pool's
 * {@code maxInFlightPerSession}, default 1), so its programs never see their state change under
 * them. Many threads sharing one session therefore get one LM call at a time. For concurrent
 * executions give each conversation its own session, or define the program pool-wide
 * ({@code Dspy.definePoolProgram}) and call it without a session.
 */
public final class DspySession implements AutoCloseable {
    private final Dspy dspy;
    private final String id;
    /** Program definitions by id, in creation order: what a new worker needs to rebuild them. */
    private final Map<String, Map<String, Object>> definitions = new LinkedHashMap<>();
    private volatile PythonSession session;
    private volatile boolean closed;

    DspySession(Dspy dspy, String id) {
        this.dspy = dspy;
        this.id = id;
        this.session = open();
    }

    /**
     * The session's id, under which the pool keeps its state.
     *
     * @return the id given to {@link Dspy#session(String)}, or the random one of {@link Dspy#newSession()}
     */
    public String id() {
        return id;
    }

    /**
     * A program from DSPy's string signature, as {@code dspy.Predict}, under a new random id.
     *
     * @param signature a DSPy signature such as {@code "question -> answer"}
     * @return a handle on the program, which lives in this session
     * @throws ProgramBuildException if DSPy refuses the signature
     * @throws InterruptedException if the calling thread is interrupted while it waits
     */
    public DspyProgram program(String signature) throws InterruptedException {
        return program(ProgramSpec.of(signature));
    }

    /**
     * A program built from {@code spec}, under a new random id ({@code program-} and 8 hex digits).
     *
     * @param spec what to build: a signature, a module, a factory, with state and tools
     * @return a handle on the program, which lives in this session
     * @throws ProgramBuildException when the definition cannot be built
     * @throws InterruptedException if the calling thread is interrupted while it waits
     */
    public DspyProgram program(ProgramSpec spec) throws InterruptedException {
        return program("program-" + UUID.randomUUID().toString().substring(0, 8), spec);
    }

    /**
     * Creates (or replaces) the program {@code programId} in this session.
     *
     * @param programId the program's id within this session
     * @param spec what to build: a signature, a module, a factory, with state and tools
     * @return a handle on the program
     * @throws ProgramBuildException when the definition cannot be built; a program already under
     *         that id stays as it was
     * @throws InterruptedException if the calling thread is interrupted while it waits
     */
    public DspyProgram program(String programId, ProgramSpec spec) throws InterruptedException {
        Map<String, Object> definition = spec.definition(programId);
        JsonNode info = call("dspy.create_program", Map.of("program_id", programId, "definition", definition),
                CallOptions.DEFAULTS);
        synchronized (definitions) {
            definitions.put(programId, definition);
        }
        return handle(programId, info);
    }

    /**
     * A pool-wide program ({@link Dspy#definePoolProgram}), run through this session.
     *
     * @param programId the id it was defined under
     * @return a handle whose calls go through this session (and so see its state)
     * @throws ProgramNotFoundException if neither this session nor the pool has a program with that id
     * @throws InterruptedException if the calling thread is interrupted while it waits
     */
    public DspyProgram poolProgram(String programId) throws InterruptedException {
        return handle(programId, call("dspy.get_program_info", Map.of("program_id", programId), CallOptions.DEFAULTS));
    }

    private DspyProgram handle(String programId, JsonNode info) {
        return new DspyProgram(dspy, this, programId, Dspy.strings(info.get("inputs")), Dspy.strings(info.get("outputs")));
    }

    /**
     * The ids of this session's own programs (pool-wide ones are not listed).
     *
     * @return the ids, sorted; not modifiable
     * @throws InterruptedException if the calling thread is interrupted while it waits
     */
    public List<String> listPrograms() throws InterruptedException {
        return Dspy.strings(call("dspy.list_programs", null, CallOptions.DEFAULTS));
    }

    /**
     * What a program takes and gives and how it was built, from the worker that holds it.
     *
     * @param programId a program of this session, or a pool-wide one
     * @return its description
     * @throws ProgramNotFoundException if neither this session nor the pool has a program with that id
     * @throws InterruptedException if the calling thread is interrupted while it waits
     */
    public ProgramInfo info(String programId) throws InterruptedException {
        return ProgramInfo.from(call("dspy.get_program_info", Map.of("program_id", programId), CallOptions.DEFAULTS));
    }

    /**
     * The program's state as {@code dump_state()} gives it (demos, instructions, signatures):
     * save it, or give it back with {@link ProgramSpec#withState}.
     *
     * @param programId a program of this session, or a pool-wide one
     * @return the state as JSON
     * @throws ProgramNotFoundException if neither this session nor the pool has a program with that id
     * @throws InterruptedException if the calling thread is interrupted while it waits
     */
    public JsonNode exportState(String programId) throws InterruptedException {
        return call("dspy.export_state", Map.of("program_id", programId), CallOptions.DEFAULTS);
    }

    /**
     * Deletes one of this session's programs, here and in its worker.
     *
     * @param programId the program's id within this session
     * @return whether the program existed
     * @throws InterruptedException if the calling thread is interrupted while it waits
     */
    public boolean delete(String programId) throws InterruptedException {
        boolean deleted = call("dspy.delete_program", Map.of("program_id", programId), CallOptions.DEFAULTS)
                .get("deleted").asBoolean();
        synchronized (definitions) {
            definitions.remove(programId);
        }
        return deleted;
    }

    /**
     * Deletes every program of this session.
     *
     * @throws InterruptedException if the calling thread is interrupted while it waits
     */
    public void reset() throws InterruptedException {
        call("dspy.reset", null, CallOptions.DEFAULTS);
        synchronized (definitions) {
            definitions.clear();
        }
    }

    JsonNode call(String command, Object args, CallOptions options) throws InterruptedException {
        PythonSession s = session;
        try {
            try {
                return s.call(command, args, JsonNode.class, options);
            } catch (SessionLostException lost) {
                if (closed) {
                    throw lost;
                }
                return reopen(s, lost).call(command, args, JsonNode.class, options);
            }
        } catch (RuntimeException e) {
            throw DspyErrors.translate(e);
        }
    }

    CompletableFuture<JsonNode> callAsync(String command, Object args, CallOptions options) {
        PythonSession s = session;
        return s.callAsync(command, args, JsonNode.class, options).exceptionallyCompose(e -> {
            Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
            if (cause instanceof SessionLostException lost && !closed) {
                return CompletableFuture.supplyAsync(() -> {
                    try {
                        return reopen(s, lost);
                    } catch (InterruptedException interrupted) {
                        Thread.currentThread().interrupt();
                        throw new CompletionException(interrupted);
                    }
                }).thenCompose(fresh -> fresh.callAsync(command, args, JsonNode.class, options));
            }
            return CompletableFuture.failedFuture(cause);
        }).handle((reply, error) -> {
            if (error != null) {
                throw DspyErrors.translate(error);
            }
            return reply;
        });
    }

    /**
     * A stream in this session. If the session ended before the stream's first chunk, it is opened
     * again with its programs and the stream started there, as {@link #call} does.
     */
    Stream<DspyChunk> stream(String command, Object args, StreamOptions options) {
        PythonSession s = session;
        return ChunkStream.open(() -> s.stream(command, args, JsonNode.class, options), lost -> {
            if (closed) {
                throw lost;
            }
            try {
                return reopen(s, lost).stream(command, args, JsonNode.class, options);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new CancellationException("stream '" + command + "' of session '" + id
                        + "' was not started again: interrupted while its session was reopened");
            }
        });
    }

    /**
     * Opens the session again under its id and rebuilds its programs there, once for all the
     * threads that found the same handle lost.
     */
    private synchronized PythonSession reopen(PythonSession lostHandle, SessionLostException why) throws InterruptedException {
        if (session != lostHandle) {
            return session;
        }
        PythonSession fresh = open();
        List<Map<String, Object>> programs = programs();
        if (!programs.isEmpty()) {
            try {
                fresh.call("dspy.restore_programs", Map.of("programs", programs));
            } catch (RuntimeException e) {
                throw new SessionProgramsLostException("session '" + id + "' was lost (" + why.getMessage()
                        + ") and its programs " + programs.stream().map(p -> p.get("id")).toList()
                        + " could not be rebuilt from their definitions: " + DspyErrors.translate(e).getMessage(), e);
            }
        }
        session = fresh;
        return fresh;
    }

    private PythonSession open() {
        PythonSession s = dspy.pool().session(id);
        s.onRestore("dspy.restore_programs", new RestoreArguments());
        return s;
    }

    private List<Map<String, Object>> programs() {
        synchronized (definitions) {
            return new ArrayList<>(definitions.values());
        }
    }

    /**
     * Frees the session's state in its worker, its programs included, after the calls already made.
     * Later calls through this session fail with {@link io.pypool.SessionLostException}.
     */
    @Override
    public void close() {
        closed = true;
        session.close();
    }

    /** Serialized when a restore runs, so it always carries the definitions of that moment. */
    private final class RestoreArguments {
        @SuppressWarnings("unused") // read by Jackson
        public List<Map<String, Object>> getPrograms() {
            return programs();
        }
    }
}
