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
     * @param <T> the result's Java type
     * @param command the name a handler was registered under with {@code @pypool.command}
     * @param args the arguments: an object or map (keyword arguments), an array or list (positional
     *        ones), or null for none
     * @param resultType what the JSON result is read into ({@code JsonNode.class}, {@code Void.class}
     *        to ignore it, a record, ...)
     * @param options the call's deadline, idempotence and the like; {@link CallOptions#DEFAULTS} for the pool's
     * @return the handler's result read as {@code resultType}; null if the handler returned None
     * @throws InterruptedException if the calling thread is interrupted while it waits; the call's
     *         late reply, if any, is dropped
     * @throws PypoolException a typed failure: {@link PythonException} (with its subclasses
     *         {@link UnknownCommandException} and {@link BadArgumentsException}), {@link CallTimeoutException},
     *         {@link PoolSaturatedException}, {@link WorkerCrashedException}, {@link SessionLostException},
     *         {@link PoolClosedException}, {@link ProtocolException}, {@link ResultMappingException}
     * @throws ArgumentsTooLargeException if the arguments exceed {@code maxFrameBytes}; nothing was sent
     */
    <T> T call(String command, Object args, Class<T> resultType, CallOptions options) throws InterruptedException;

    /**
     * Runs {@code command} without blocking. The future fails with the same typed exceptions as
     * {@link #call}; cancelling it abandons the call (its late reply is dropped). Dependent stages
     * run on the pool's callback executor, never on a worker's reader thread.
     *
     * @param <T> the result's Java type
     * @param command the name a handler was registered under with {@code @pypool.command}
     * @param args the arguments, as for {@link #call(String, Object, Class, CallOptions)}; null for none
     * @param resultType what the JSON result is read into
     * @param options the call's deadline, idempotence and the like; {@link CallOptions#DEFAULTS} for the pool's
     * @return a future of the handler's result read as {@code resultType}
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
     *
     * @param <T> the items' Java type
     * @param command the name of a generator handler
     * @param args the arguments, as for {@link #call(String, Object, Class, CallOptions)}; null for none
     * @param itemType what each yielded item is read into
     * @param options the stream's deadline and window; {@link StreamOptions#DEFAULTS} for the pool's
     * @return a sequential stream of the items, in the order Python yielded them; it must be closed
     */
    <T> java.util.stream.Stream<T> stream(String command, Object args, Class<T> itemType, StreamOptions options);

    /**
     * The non-blocking form of {@link #stream}: the call starts when a subscriber subscribes (one
     * subscriber per publisher), items go out as the subscriber requests them, on the pool's
     * callback executor, and no thread waits meanwhile. Cancelling the subscription cancels the handler.
     *
     * @param <T> the items' Java type
     * @param command the name of a generator handler
     * @param args the arguments, as for {@link #call(String, Object, Class, CallOptions)}; null for none
     * @param itemType what each yielded item is read into
     * @param options the stream's deadline and window; {@link StreamOptions#DEFAULTS} for the pool's
     * @return a publisher that starts the call for its one subscriber
     */
    <T> java.util.concurrent.Flow.Publisher<T> publisher(String command, Object args, Class<T> itemType,
                                                          StreamOptions options);

    /**
     * {@link #stream(String, Object, Class, StreamOptions)} with the pool's deadline and window.
     *
     * @param <T> the items' Java type
     * @param command the name of a generator handler
     * @param args the arguments; null for none
     * @param itemType what each yielded item is read into
     * @return a sequential stream of the items; it must be closed
     */
    default <T> java.util.stream.Stream<T> stream(String command, Object args, Class<T> itemType) {
        return stream(command, args, itemType, StreamOptions.DEFAULTS);
    }

    /**
     * {@link #publisher(String, Object, Class, StreamOptions)} with the pool's deadline and window.
     *
     * @param <T> the items' Java type
     * @param command the name of a generator handler
     * @param args the arguments; null for none
     * @param itemType what each yielded item is read into
     * @return a publisher that starts the call for its one subscriber
     */
    default <T> java.util.concurrent.Flow.Publisher<T> publisher(String command, Object args, Class<T> itemType) {
        return publisher(command, args, itemType, StreamOptions.DEFAULTS);
    }

    /**
     * {@link #call(String, Object, Class, CallOptions)} with the pool's deadline, giving the result as JSON.
     *
     * @param command the name a handler was registered under
     * @param args the arguments; null for none
     * @return the result as a JSON tree ({@code NullNode} if the handler returned None)
     * @throws InterruptedException if the calling thread is interrupted while it waits
     * @throws PypoolException a typed failure, as for {@link #call(String, Object, Class, CallOptions)}
     */
    default JsonNode call(String command, Object args) throws InterruptedException {
        return call(command, args, JsonNode.class, CallOptions.DEFAULTS);
    }

    /**
     * {@link #call(String, Object, Class, CallOptions)} with the pool's deadline.
     *
     * @param <T> the result's Java type
     * @param command the name a handler was registered under
     * @param args the arguments; null for none
     * @param resultType what the JSON result is read into
     * @return the handler's result read as {@code resultType}; null if the handler returned None
     * @throws InterruptedException if the calling thread is interrupted while it waits
     * @throws PypoolException a typed failure, as for {@link #call(String, Object, Class, CallOptions)}
     */
    default <T> T call(String command, Object args, Class<T> resultType) throws InterruptedException {
        return call(command, args, resultType, CallOptions.DEFAULTS);
    }

    /**
     * {@link #callAsync(String, Object, Class, CallOptions)} with the pool's deadline, giving the result as JSON.
     *
     * @param command the name a handler was registered under
     * @param args the arguments; null for none
     * @return a future of the result as a JSON tree
     */
    default CompletableFuture<JsonNode> callAsync(String command, Object args) {
        return callAsync(command, args, JsonNode.class, CallOptions.DEFAULTS);
    }

    /**
     * {@link #callAsync(String, Object, Class, CallOptions)} with the pool's deadline.
     *
     * @param <T> the result's Java type
     * @param command the name a handler was registered under
     * @param args the arguments; null for none
     * @param resultType what the JSON result is read into
     * @return a future of the handler's result read as {@code resultType}
     */
    default <T> CompletableFuture<T> callAsync(String command, Object args, Class<T> resultType) {
        return callAsync(command, args, resultType, CallOptions.DEFAULTS);
    }
}
