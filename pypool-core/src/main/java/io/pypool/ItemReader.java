package io.pypool;

import java.util.Spliterator;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletionException;
import java.util.function.Consumer;

/**
 * The blocking side of a stream: the consumer's thread takes items as they arrive, parking while
 * none is there, and gives credit back as it goes. After the items come the stream's end or its
 * typed failure. Closing it (the {@code Stream}'s close) cancels the call if it has not ended.
 */
final class ItemReader<T> implements Spliterator<T> {
    private final PoolEngine pool;
    private final Call call;
    private final StreamItems items;
    private final Class<T> itemType;
    private volatile boolean closed;

    ItemReader(PoolEngine pool, Call call, Class<T> itemType) {
        this.pool = pool;
        this.call = call;
        this.items = call.items;
        this.itemType = itemType;
    }

    @Override
    public boolean tryAdvance(Consumer<? super T> action) {
        while (true) {
            FrameCodec.Frame item = items.poll();
            if (item == null && call.isDone()) {
                item = items.poll(); // an item offered just before the end
                if (item == null) {
                    return finish();
                }
            }
            if (item != null) {
                action.accept(take(item));
                return true;
            }
            if (closed) {
                return false;
            }
            // The call's deadline (its timer completes the call) and the idle timeout wake us; the bound is a backstop.
            items.await(Math.max(1_000_000L, call.remainingNanos(System.nanoTime())));
            if (Thread.interrupted()) {
                pool.dispatcher().abandon(call, new CancellationException("the consumer's thread was interrupted"));
                Thread.currentThread().interrupt();
                throw new CancellationException("stream '" + call.command + "' was cancelled: the consumer's thread "
                        + "was interrupted while it waited for an item");
            }
        }
    }

    /** Decodes an item and gives credit back once half a window was taken. */
    private T take(FrameCodec.Frame item) {
        long[] credit = items.consumed(item);
        if (credit != null) {
            pool.dispatcher().sendCredit(call, credit[0], credit[1]);
        }
        try {
            return pool.replies().item(item, call, itemType);
        } catch (RuntimeException e) {
            pool.dispatcher().abandon(call, new CancellationException("an item of stream '" + call.command
                    + "' could not be read: " + e.getMessage()));
            throw e;
        }
    }

    /** After the last item: false at a clean end, else the stream's typed failure. */
    private boolean finish() {
        Call.Reply reply;
        try {
            reply = call.join();
        } catch (CompletionException | CancellationException e) {
            if (closed) {
                return false; // the consumer closed it: there is nothing more to say
            }
            throw PoolEngine.withCallSite(PoolEngine.asRuntime(PoolEngine.unwrap(e)));
        }
        if (reply.kind() != FrameCodec.REPLY_OK) {
            pool.replies().decode(reply, call, Void.class); // throws the typed failure
        }
        return false;
    }

    void close() {
        closed = true;
        if (!call.isDone()) {
            pool.dispatcher().abandon(call, new CancellationException("stream '" + call.command
                    + "' was closed by its consumer"));
        }
    }

    @Override
    public Spliterator<T> trySplit() {
        return null; // items come one after another from one generator
    }

    @Override
    public long estimateSize() {
        return Long.MAX_VALUE;
    }

    @Override
    public int characteristics() {
        return ORDERED;
    }
}
