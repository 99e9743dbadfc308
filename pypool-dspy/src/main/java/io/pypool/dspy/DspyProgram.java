package io.pypool.dspy;

import com.fasterxml.jackson.databind.JsonNode;
import io.pypool.CallOptions;
import io.pypool.StreamOptions;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;

/**
 * A program to run with its input fields: a session's own program, or a pool-wide one
 * ({@link Dspy#definePoolProgram}), run through a session or through none.
 */
public final class DspyProgram {
    private final Dspy dspy;
    private final DspySession session; // null: a pool-wide program called outside any session
    private final String id;
    private final List<String> inputs;
    private final List<String> outputs;

    DspyProgram(Dspy dspy, DspySession session, String id, List<String> inputs, List<String> outputs) {
        this.dspy = dspy;
        this.session = session;
        this.id = id;
        this.inputs = inputs;
        this.outputs = outputs;
    }

    /**
     * The program's id within its session, or within the pool for a pool-wide program.
     *
     * @return the id
     */
    public String id() {
        return id;
    }

    /**
     * The input field names, in order; empty where the module does not declare them (a factory's **kwargs).
     *
     * @return the names, not modifiable
     */
    public List<String> inputFields() {
        return inputs;
    }

    /**
     * The output field names, in order, as the worker reported them when the handle was made.
     *
     * @return the names, not modifiable
     */
    public List<String> outputFields() {
        return outputs;
    }

    /**
     * Runs the program with the pool's LM (and the program's own LM settings).
     *
     * @param inputs the input fields by name: anything Jackson can write (text, numbers, lists, records)
     * @return the outputs, with the reasoning and token usage where DSPy gave them
     * @throws io.pypool.BadArgumentsException when an input field is missing, unknown, or not of its declared type
     * @throws ProgramNotFoundException when the program was deleted
     * @throws LmNotConfiguredException before {@link Dspy#configureLm}
     * @throws DspyCallException when DSPy raised one of its errors (rate limit, unparseable reply...)
     * @throws io.pypool.CallTimeoutException past the execute's deadline
     * @throws InterruptedException if the calling thread is interrupted while it waits
     */
    public DspyResult execute(Map<String, ?> inputs) throws InterruptedException {
        return execute(inputs, ExecuteOptions.DEFAULTS);
    }

    /**
     * Runs the program with per-execute settings: a deadline, several completions, the LM's history,
     * LM settings for this execute only.
     *
     * @param inputs the input fields by name
     * @param options the settings; {@link ExecuteOptions#DEFAULTS} for none
     * @return the outputs, with the reasoning, token usage, completions and LM history where asked for
     * @throws InterruptedException if the calling thread is interrupted while it waits
     * @throws DspyException and the pool's typed exceptions, as for {@link #execute(Map)}
     */
    public DspyResult execute(Map<String, ?> inputs, ExecuteOptions options) throws InterruptedException {
        CallOptions call = options.callOptions();
        Map<String, Object> args = args(inputs, options);
        JsonNode reply = session != null ? session.call("dspy.execute_program", args, call)
                : dspy.callPool("dspy.execute_pool_program", args, call);
        return DspyResult.from(reply);
    }

    /**
     * Runs the program without blocking; the future fails with the same typed exceptions as {@link #execute}.
     *
     * @param inputs the input fields by name
     * @return a future of the outputs
     */
    public CompletableFuture<DspyResult> executeAsync(Map<String, ?> inputs) {
        return executeAsync(inputs, ExecuteOptions.DEFAULTS);
    }

    /**
     * Runs the program without blocking, with per-execute settings; the future fails with the same
     * typed exceptions as {@link #execute}.
     *
     * @param inputs the input fields by name
     * @param options the settings; {@link ExecuteOptions#DEFAULTS} for none
     * @return a future of the outputs
     */
    public CompletableFuture<DspyResult> executeAsync(Map<String, ?> inputs, ExecuteOptions options) {
        CallOptions call = options.callOptions();
        Map<String, Object> args = args(inputs, options);
        CompletableFuture<JsonNode> reply = session != null ? session.callAsync("dspy.execute_program", args, call)
                : dspy.callPoolAsync("dspy.execute_pool_program", args, call);
        return reply.thenApply(DspyResult::from);
    }

    /**
     * Runs the program as a stream of chunks: tokens of its output fields as the LM writes them
     * (with an LM that streams: {@code dspy.LM} does, DSPy's DummyLM does not), DSPy's status
     * messages around tool calls, and last the prediction, the same result as {@link #execute}.
     * Built on {@code dspy.streamify}. Use it in try-with-resources: closing it before the end
     * cancels the execution in its worker. The execute's timeout covers the whole stream. Failures
     * are the typed exceptions of {@link #execute}, thrown where the consumer reaches them, after
     * the chunks before them. A session program's stream holds its session until it ends.
     *
     * @param inputs the input fields by name
     * @return the chunks, in order, ending with a {@link DspyChunk.Type#PREDICTION} chunk; it must be closed
     */
    public Stream<DspyChunk> stream(Map<String, ?> inputs) {
        return stream(inputs, ExecuteOptions.DEFAULTS);
    }

    /**
     * {@link #stream(Map)} with per-execute settings (the deadline covers the whole stream).
     *
     * @param inputs the input fields by name
     * @param options the settings; {@link ExecuteOptions#DEFAULTS} for none
     * @return the chunks, in order, ending with a {@link DspyChunk.Type#PREDICTION} chunk; it must be closed
     */
    public Stream<DspyChunk> stream(Map<String, ?> inputs, ExecuteOptions options) {
        StreamOptions stream = options.streamOptions();
        Map<String, Object> args = args(inputs, options);
        return session != null ? session.stream("dspy.stream_program", args, stream)
                : dspy.streamPool("dspy.stream_pool_program", args, stream);
    }

    private Map<String, Object> args(Map<String, ?> inputs, ExecuteOptions options) {
        Objects.requireNonNull(inputs, "inputs");
        return Map.of("program_id", id, "inputs", inputs, "options", options.wire());
    }

    @Override
    public String toString() {
        return "DspyProgram[" + id + ": " + inputs + " -> " + outputs + (session == null ? ", pool-wide" : "") + "]";
    }
}
