package io.pypool;

import java.io.IOException;
import java.io.OutputStream;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;

/**
 * The one writer of a worker's input pipe. A frame that surely fits the pipe's buffer, sent while
 * nothing else is being written, is written by the calling thread (no hand-off: the common case
 * stays as fast as a plain write). Anything else waits in a queue for this writer's own thread,
 * the only thread that may ever block on the pipe. Frames go out in the order they were accepted.
 */
final class FrameWriter {
    /** Linux's default pipe capacity: what a worker that reads nothing can still take without blocking a writer. */
    static final long PIPE_CAPACITY = 64 * 1024;
    private static final byte[] CLOSE = new byte[0];

    private final OutputStream out;
    private final Consumer<IOException> onFailure;
    private final ConcurrentLinkedQueue<byte[]> queue = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean writing = new AtomicBoolean();
    private final Thread thread;
    private volatile boolean done;

    FrameWriter(OutputStream out, String threadName, Consumer<IOException> onFailure) {
        this.out = out;
        this.onFailure = onFailure;
        this.thread = Worker.daemon(threadName, this::run);
        thread.start();
    }

    void send(byte[] frame, long unreadBytes) {
        if (done) {
            return;
        }
        if (unreadBytes <= PIPE_CAPACITY && queue.isEmpty() && writing.compareAndSet(false, true)) {
            try {
                out.write(frame);
                out.flush();
            } catch (IOException e) {
                fail(e);
            } finally {
                writing.set(false);
            }
            if (!queue.isEmpty()) {
                LockSupport.unpark(thread); // it may have found us writing and gone back to sleep
            }
            return;
        }
        queue.add(frame);
        LockSupport.unpark(thread);
    }

    /** End of input after every frame accepted so far. */
    void close() {
        queue.add(CLOSE);
        LockSupport.unpark(thread);
    }

    private void run() {
        while (!done) {
            if (queue.isEmpty() || !writing.compareAndSet(false, true)) {
                LockSupport.parkNanos(this, 1_000_000_000L); // every wake-up is signalled; the timeout is a backstop
                continue;
            }
            try {
                byte[] frame;
                while ((frame = queue.poll()) != null) {
                    if (frame == CLOSE) {
                        done = true;
                        out.close();
                        return;
                    }
                    out.write(frame);
                }
                out.flush();
            } catch (IOException e) {
                fail(e);
            } finally {
                writing.set(false);
            }
        }
    }

    private void fail(IOException e) {
        if (!done) {
            done = true;
            queue.clear();
            onFailure.accept(e);
        }
    }

    /** The worker is gone: drop what waits and let the thread end. */
    void stop() {
        done = true;
        queue.clear();
        LockSupport.unpark(thread);
    }

    void join(long millis) throws InterruptedException {
        LockSupport.unpark(thread);
        thread.join(millis);
    }
}
