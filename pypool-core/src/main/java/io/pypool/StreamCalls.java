package io.pypool;

import java.lang.ref.Cleaner;
import java.util.Objects;
import java.util.concurrent.CancellationException;
import java.util.concurrent.Flow;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;

/**
 * Opens streamed calls: a stream is a call like any other (routing, sessions, deadline, one final
 * reply that frees its slot), with a {@link StreamItems} for the items that come before that
 * reply. The blocking form is a {@link Stream} over an {@link ItemReader}; the non-blocking one
 * an {@link ItemPublisher}. A stream dropped without being closed is cancelled by a
 * {@link Cleaner} once its reader is unreachable (from the Stream and from any iterator of it;
 * the action holds the call, never the reader).
 */
final class StreamCalls {
    private final PoolEngine pool;
    private Cleaner cleaner; // guarded by this: its thread starts with the first stream

    StreamCalls(PoolEngine pool) {
        this.pool = pool;
    }

    <T> Stream<T> stream(SessionEntry session, String command, Object args, Class<T> itemType, StreamOptions options) {
        Objects.requireNonNull(itemType, "itemType");
        Call call = open(session, command, args, options);
        try {
            pool.submit(call, pool.settings().saturationPolicy() == SaturationPolicy.WAIT);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            pool.dispatcher().abandon(call, new CancellationException("the caller was interrupted"));
            throw new CancellationException("stream '" + command + "' was not started: the caller was interrupted "
                    + "while it waited for room in the pool's queue");
        }
        ItemReader<T> reader = new ItemReader<>(pool, call, itemType);
        Stream<T> stream = StreamSupport.stream(reader, false).onClose(reader::close);
        // Watch the reader, not the Stream: stream.iterator() keeps only the reader, and the
        // Stream object is then garbage while its items are still being read.
        cleaner().register(reader, new Dropped(pool.dispatcher(), call));
        return stream;
    }

    <T> Flow.Publisher<T> publisher(SessionEntry session, String command, Object args, Class<T> itemType,
                                    StreamOptions options) {
        Objects.requireNonNull(itemType, "itemType");
        Objects.requireNonNull(options, "options");
        pool.checkEncodable(command, args); // bad arguments fail here, not at subscribe
        return new ItemPublisher<>(pool, () -> {
            Call call = open(session, command, args, options);
            try {
                pool.submit(call, false);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt(); // not reached: submit waits only when told to
            }
            return call;
        }, itemType);
    }

    /** The call of a new stream, its deadline and idle timeout watched, not yet submitted. */
    private Call open(SessionEntry session, String command, Object args, StreamOptions options) {
        Objects.requireNonNull(options, "options");
        StreamItems items = new StreamItems(options.windowItems(), options.windowBytes());
        Call call = pool.newCall(session, command, args, options.timeoutOrNull(), options.isIdempotent(), items);
        call.whenComplete((reply, error) -> items.signal());
        pool.watchDeadline(call);
        if (options.idleTimeoutOrNull() != null) {
            watchIdle(call, options.idleTimeoutOrNull().toNanos());
        }
        return call;
    }

    /** Checks, no more often than the idle timeout, whether the consumer has waited that long for nothing. */
    private void watchIdle(Call call, long idleNanos) {
        pool.timers().after(idleNanos, new Runnable() {
            @Override
            public void run() {
                if (call.isDone()) {
                    return;
                }
                long since = call.items.idleSinceNanos();
                long waited = since == 0 ? 0 : System.nanoTime() - since;
                if (waited >= idleNanos) {
                    pool.dispatcher().onIdle(call, idleNanos / 1_000_000);
                } else {
                    pool.timers().after(idleNanos - waited, this);
                }
            }
        });
    }

    private synchronized Cleaner cleaner() {
        if (cleaner == null) {
            cleaner = Cleaner.create(r -> Worker.daemon("pypool-" + pool.name() + "-stream-cleaner", r));
        }
        return cleaner;
    }

    /** At close: nothing is left to clean once every call has ended; the cleaner's thread ends with its last registration. */
    void shutdown() {
        // A Cleaner's thread stops by itself when the Cleaner is unreachable; dropping it is enough.
        synchronized (this) {
            cleaner = null;
        }
    }

    /** The cleaning action of a stream: holds its call (never the stream, or it would stay reachable). */
    private static final class Dropped implements Runnable {
        private final Dispatcher dispatcher;
        private final Call call;

        Dropped(Dispatcher dispatcher, Call call) {
            this.dispatcher = dispatcher;
            this.call = call;
        }

        @Override
        public void run() {
            if (!call.isDone()) {
                dispatcher.abandon(call, new CancellationException("stream '" + call.command
                        + "' was dropped without being closed"));
            }
        }
    }
}
