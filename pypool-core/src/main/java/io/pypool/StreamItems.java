package io.pypool;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * The items of one streamed call, between the worker's reader, which adds them as they arrive,
 * and the consumer, which takes them and gives credit back. The worker may send only as many
 * items as it was given credit for, so this queue never holds more than a window's worth; a
 * worker that sends more is breaking the protocol ({@link #offer} says so).
 *
 * <p>Credit goes back in batches, once half a window was consumed, so that a fast stream costs a
 * CREDIT frame per half window rather than one per item.
 */
final class StreamItems {
    private final int windowItems;
    private final long windowBytes;
    private final ConcurrentLinkedQueue<FrameCodec.Frame> queue = new ConcurrentLinkedQueue<>();
    /** Items received from the worker (its reader thread is the only writer). */
    private final AtomicLong received = new AtomicLong();
    /** Items the worker may have sent in all: the window, plus every credit given back. Raised before the credit is sent. */
    private volatile long allowedItems;
    // The consumer's side: one consumer at a time (the stream's thread, or the publisher's serialized drain).
    private long consumedItems;
    private long consumedBytes;
    private long returnedItems;
    private long returnedBytes;
    /** The consumer parked for an item, or null. */
    private volatile Thread waiter;
    /** Told whenever an item arrives or the call ends (the publisher's drain); may be null. */
    private volatile Runnable onSignal;
    /** Real time of the last item, and since when the consumer has been waiting for one (0: it is not). */
    private volatile long lastItemNanos;
    private volatile long waitingSinceNanos;

    StreamItems(int windowItems, long windowBytes) {
        this.windowItems = windowItems;
        this.windowBytes = windowBytes;
        this.allowedItems = windowItems;
    }

    int windowItems() {
        return windowItems;
    }

    long windowBytes() {
        return windowBytes;
    }

    /** The reader's side: false when the worker sent more items than its credit allowed. */
    boolean offer(FrameCodec.Frame item) {
        if (received.incrementAndGet() > allowedItems) {
            return false;
        }
        queue.add(item);
        lastItemNanos = System.nanoTime();
        signal();
        return true;
    }

    long received() {
        return received.get();
    }

    /** The worker has sent all its credit allows: the stream waits on its consumer, not on Python. */
    boolean creditSpent() {
        return received.get() >= allowedItems;
    }

    /** Wakes the consumer: an item came, or the call ended. */
    void signal() {
        Thread t = waiter;
        if (t != null) {
            LockSupport.unpark(t);
        }
        Runnable r = onSignal;
        if (r != null) {
            r.run();
        }
    }

    void onSignal(Runnable r) {
        onSignal = r;
    }

    FrameCodec.Frame poll() {
        return queue.poll();
    }

    boolean isEmpty() {
        return queue.isEmpty();
    }

    /**
     * Records an item the consumer took. Returns the credit to give back now, as
     * {@code {items, bytes}}, or null while less than half a window was consumed since the last.
     */
    long[] consumed(FrameCodec.Frame item) {
        waitingSinceNanos = 0;
        consumedItems++;
        consumedBytes += bodySize(item);
        long items = consumedItems - returnedItems;
        long bytes = consumedBytes - returnedBytes;
        if (items < Math.max(1, windowItems / 2) && bytes < Math.max(1, windowBytes / 2)) {
            return null;
        }
        returnedItems = consumedItems;
        returnedBytes = consumedBytes;
        allowedItems += items; // before the worker can know of it
        return new long[] {items, bytes};
    }

    /** Parks the consumer until an item or the end may be there, at most {@code nanos}. */
    void await(long nanos) {
        if (waitingSinceNanos == 0) {
            waitingSinceNanos = System.nanoTime();
        }
        waiter = Thread.currentThread();
        try {
            if (queue.isEmpty()) {
                LockSupport.parkNanos(this, nanos);
            }
        } finally {
            waiter = null;
        }
    }

    /** The consumer wants an item and none is there (the publisher's drain marks this itself). */
    void waiting() {
        if (waitingSinceNanos == 0) {
            waitingSinceNanos = System.nanoTime();
        }
    }

    /** Since when the consumer has waited with nothing coming, or 0 while it is not waiting. */
    long idleSinceNanos() {
        long since = waitingSinceNanos;
        return since == 0 ? 0 : Math.max(since, lastItemNanos);
    }

    /** An item's size as the worker counts it against the byte credit: its frame's body. */
    static long bodySize(FrameCodec.Frame item) {
        if (item.attachments() == null) {
            return item.body().length;
        }
        long size = 4L + item.body().length;
        for (byte[] part : item.attachments()) {
            size += 4L + part.length;
        }
        return size;
    }
}
