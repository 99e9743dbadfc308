package io.pypool;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.concurrent.CompletableFuture;

/**
 * What a pool and a session have in common: calling a Python command. Arguments are anything
 * Jackson can write as a JSON object (a {@code Map}, a record, a POJO) or array (positional
 * arguments), or {@code null} for none. Results are read from JSON into the requested type.
 * {@code byte[]}, {@code ByteBuffer} and {@link NdArray} values anywhere in the arguments travel
 * as raw binary attachments (Python gets {@code bytes} / {@code np.ndarray}), and so do
 * {@code bytes} and NumPy arrays in results (Java gets {@code byte[]} / {@link NdArray}).
 * Arguments larger than {@code maxFrameBytes} fail at once with {@link ArgumentsTooLargeException}.
 */
public interface PythonCaller {

    /**
     * Runs {@code command} and waits for its result, at most the call's deadline (the pool's
     * default call timeout unless {@code options} says otherwise), queueing included.
     *
     * @throws InterruptedException if the calling thread is interrupted while it waits; the call's
     *         late reply, if any, is dropped
     * @throws PypoolException a typed failure: {@link PythonException}, {@link CallTimeoutException},
     *         {@link PoolSaturatedException}, {@link WorkerCrashedException}, {@link SessionLostException},
     *         {@link PoolClosedException}, {@link ProtocolException}
     */
    <T> T call(String command, Object args, Class<T> resultType, CallOptions options) throws InterruptedException;

    /**
     * Runs {@code command} without blocking. The future fails with the same typed exceptions as
     * {@link #call}; cancelling it abandons the call (its late reply is dropped). Dependent stages
     * run on the pool's callback executor, never on a worker's reader thread.
     */
    <T> CompletableFuture<T> callAsync(String command, Object args, Class<T> resultType, CallOptions options);

    /**
     * Runs {@code command}, a Python generator (sync or async), and returns its items as they
     * come. Use it in try-with-resources: closing the stream cancels the handler (its generator
     * gets {@code GeneratorExit}); a stream dropped without being closed is cancelled once it is
     * unreachable, or at its deadline. The deadline ({@link StreamOptions#withTimeout}, the
     * pool's call timeout by default) covers the whole stream. Python runs ahead of the consumer
     * by at most a window of items ({@link StreamOptions#withWindow}), so a slow consumer makes
     * the generator wait rather than memory grow. A session's stream holds the session's strand
     * until it ends. Failures arrive after the items delivered before them, as the typed
     * exceptions of {@link #call} (a worker dying mid-stream: {@link WorkerCrashedException}).
     */
    <T> java.util.stream.Stream<T> stream(String command, Object args, Class<T> itemType, StreamOptions options);

    /**
     * The non-blocking form of {@link #stream}: the call starts when a subscriber subscribes (one
     * subscriber per publisher), items go out as the subscriber requests them, on the pool's
     * callback executor, and no thread waits meanwhile. Cancelling the subscription cancels the handler.
     */
    <T> java.util.concurrent.Flow.Publisher<T> publisher(String command, Object args, Class<T> itemType,
                                                          StreamOptions options);

    default <T> java.util.stream.Stream<T> stream(String command, Object args, Class<T> itemType) {
        return stream(command, args, itemType, StreamOptions.DEFAULTS);
    }

    default <T> java.util.concurrent.Flow.Publisher<T> publisher(String command, Object args, Class<T> itemType) {
        return publisher(command, args, itemType, StreamOptions.DEFAULTS);
    }

    default JsonNode call(String command, Object args) throws InterruptedException {
        return call(command, args, JsonNode.class, CallOptions.DEFAULTS);
    }

    default <T> T call(String command, Object args, Class<T> resultType) throws InterruptedException {
        return call(command, args, resultType, CallOptions.DEFAULTS);
    }

    default CompletableFuture<JsonNode> callAsync(String command, Object args) {
        return callAsync(command, args, JsonNode.class, CallOptions.DEFAULTS);
    }

    default <T> CompletableFuture<T> callAsync(String command, Object args, Class<T> resultType) {
        return callAsync(command, args, resultType, CallOptions.DEFAULTS);
    }
}
