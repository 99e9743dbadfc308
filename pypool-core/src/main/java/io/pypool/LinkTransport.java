package io.pypool;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A worker of a {@link WorkerBackend}, seen through the engine's {@link WorkerTransport} seam.
 * The link moves bytes; here they become frames, read on a thread of their own with the same
 * checks as a local worker's pipe, and the link's end becomes the worker's {@link Death} once
 * every frame it sent before it ended has been delivered.
 */
final class LinkTransport implements WorkerTransport, WorkerLink.Listener {
    private static final byte[] END = new byte[0];

    private final Events events;
    private final Executor blocking;
    private final int maxFrameBytes;
    private final WorkerOutputLog output;
    private final LinkedBlockingQueue<byte[]> chunks = new LinkedBlockingQueue<>();
    private final Thread reader;
    private final AtomicBoolean ended = new AtomicBoolean();
    private final CountDownLatch gone = new CountDownLatch(1);
    private volatile WorkerLink link;
    private volatile String endedByPool;
    private volatile String protocolError;

    LinkTransport(String poolName, String workerId, Events events, Executor blocking, int maxFrameBytes) {
        this.events = events;
        this.blocking = blocking;
        this.maxFrameBytes = maxFrameBytes;
        this.output = new WorkerOutputLog(poolName, workerId, () -> link == null ? "starting" : link.where());
        this.reader = Worker.daemon(poolName + "-" + workerId + "-reader", this::readLoop);
    }

    /** Binds the link the backend started for this transport; before {@link #start()}. */
    LinkTransport attach(WorkerLink started, org.slf4j.event.Level outputLevel) {
        this.link = started;
        output.outputLevel(outputLevel);
        return this;
    }

    // ---- the link's listener ---------------------------------------------------------------------------

    @Override
    public void output(byte[] bytes) {
        if (bytes.length > 0 && !ended.get()) {
            chunks.add(bytes);
        }
    }

    @Override
    public void stderrLine(String line) {
        output.line(line);
    }

    @Override
    public void ended(Integer exitCode, String lostBecause) {
        if (!ended.compareAndSet(false, true)) {
            return;
        }
        chunks.add(END);
        blocking.execute(() -> {
            try {
                reader.join(1_000); // what it wrote before it ended is delivered before the verdict
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            gone.countDown();
            events.onDeath(new Death(exitCode, endedByPool, protocolError, output.tail(), lostBecause));
        });
    }

    // ---- the engine's side -----------------------------------------------------------------------------

    @Override
    public void start() {
        reader.start();
        link.start();
    }

    @Override
    public void send(byte[] frame, long unreadBytes) {
        link.write(frame); // a link never blocks on the worker: it queues
    }

    @Override
    public void closeInput() {
        link.closeInput();
    }

    @Override
    public void kill(String why) {
        if (endedByPool == null && protocolError == null) {
            endedByPool = why;
        }
        link.kill(why);
    }

    @Override
    public long pid() {
        return link == null ? -1 : link.pid();
    }

    @Override
    public String where() {
        WorkerLink l = link;
        return l == null ? "starting" : l.where();
    }

    @Override
    public ProcFs.Sample sample() {
        return null; // its machine may be another one: nothing to read here
    }

    @Override
    public List<String> stderrTail() {
        return output.tail();
    }

    @Override
    public boolean exited() {
        return gone.getCount() == 0;
    }

    @Override
    public boolean awaitExit(long millis) throws InterruptedException {
        return gone.await(millis, TimeUnit.MILLISECONDS);
    }

    @Override
    public void joinThreads(long millis) {
        try {
            reader.join(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void readLoop() {
        DataInputStream in = new DataInputStream(new BufferedInputStream(new ChunkStream(), 1 << 16));
        try {
            FrameCodec.Frame frame;
            while ((frame = FrameCodec.read(in, maxFrameBytes)) != null) {
                events.onFrame(frame);
            }
        } catch (FrameCodec.MalformedFrameException e) {
            if (!chunks.isEmpty() || !ended.get()) {
                breakProtocol("sent a malformed frame: " + e.getMessage());
            }
            // else its output was cut mid-frame because it ended: its death says how, not the frame
        } catch (IOException e) {
            breakProtocol("its output could not be read: " + e.getMessage());
        } catch (WorkerTransport.Violation e) {
            breakProtocol(e.getMessage());
        } catch (RuntimeException e) {
            breakProtocol("sent output the pool could not handle: " + e);
        }
    }

    private void breakProtocol(String what) {
        if (protocolError == null) {
            protocolError = what;
        }
        kill(what);
    }

    /** The link's chunks as one stream; it ends when the link has ended. */
    private final class ChunkStream extends InputStream {
        private byte[] current = new byte[0];
        private int position;

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (len == 0) {
                return 0;
            }
            while (position == current.length) {
                if (current == END) {
                    return -1;
                }
                try {
                    current = chunks.take();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new java.io.InterruptedIOException("interrupted");
                }
                position = 0;
            }
            int n = Math.min(len, current.length - position);
            System.arraycopy(current, position, b, off, n);
            position += n;
            return n;
        }
    }
}
