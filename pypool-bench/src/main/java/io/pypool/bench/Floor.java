package io.pypool.bench;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * One floor process: {@code floor_echo.py} on the same interpreter as the pool, behind the same
 * kind of pipes and the same 16-byte framing. Java does no JSON work here: it writes prepared
 * frames and reads replies as bytes, so what is left is the pipes, the wake-ups and Python's
 * json.loads/json.dumps. pypool cannot do less than this; the report divides by it.
 */
final class Floor implements AutoCloseable {
    /** A frame whose body the echo decodes and re-encodes as JSON (pypool's request kind). */
    static final byte JSON = 2;
    /** A frame the echo returns untouched: the floor for raw byte payloads. */
    static final byte RAW = 9;
    static final int HEADER = 16;

    private final Process process;
    private final OutputStream out;
    private final DataInputStream in;
    private final byte[] header = new byte[HEADER];
    private byte[] scratch = new byte[256];

    Floor(String python, Path script) throws IOException {
        process = new ProcessBuilder(python, script.toString())
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        out = process.getOutputStream();
        in = new DataInputStream(process.getInputStream());
        // Ready when constructed, as a pool is when build() returns: the interpreter's own start
        // (a tenth of a second, more on a busy machine) must not land in a measured window.
        roundTrip(noopFrame());
    }

    /** pypool's no-op request body, so the floor's JSON work is the same size as the pool's. */
    static byte[] noopFrame() {
        return frame(JSON, "{\"deadline_ms\":       30000,\"cmd\":\"echo\",\"args\":null}".getBytes(StandardCharsets.UTF_8));
    }

    static byte[] frame(byte kind, byte[] body) {
        byte[] frame = new byte[HEADER + body.length];
        int length = frame.length - 4;
        frame[0] = (byte) (length >>> 24);
        frame[1] = (byte) (length >>> 16);
        frame[2] = (byte) (length >>> 8);
        frame[3] = (byte) length;
        frame[4] = kind;
        frame[15] = 1; // request id 1: the echo does not care, but the header is pypool's
        System.arraycopy(body, 0, frame, HEADER, body.length);
        return frame;
    }

    /** One caller's round trip: write the frame, read the whole reply. Returns the reply's body length. */
    int roundTrip(byte[] frame) throws IOException {
        write(frame);
        return readReply();
    }

    private void write(byte[] frame) throws IOException {
        out.write(frame);
        out.flush(); // one write per frame, as a pool sends each call when it is made
    }

    private int readReply() throws IOException {
        in.readFully(header);
        int length = ((header[0] & 0xFF) << 24) | ((header[1] & 0xFF) << 16) | ((header[2] & 0xFF) << 8) | (header[3] & 0xFF);
        int body = length - (HEADER - 4);
        if (scratch.length < body) {
            scratch = new byte[body];
        }
        in.readFully(scratch, 0, body); // read, not skipped: reading the reply is part of the cost
        return body;
    }

    /**
     * Starts keeping {@code outstanding} frames in flight: a writer thread sends whenever fewer are
     * outstanding (every free slot in one write), a reader thread reads replies and counts them.
     * This is about the most a JVM gets from one such process with that many requests at once:
     * the floor for that many callers.
     */
    Pump pump(byte[] frame, int outstanding) {
        return new Pump(frame, outstanding);
    }

    final class Pump {
        final LongAdder replies = new LongAdder();
        private final Semaphore slots;
        private final Semaphore sent = new Semaphore(0);
        private final Thread writer;
        private final Thread reader;
        private volatile boolean stopped;
        private volatile boolean writerDone;
        private volatile Exception failure;

        private Pump(byte[] frame, int outstanding) {
            slots = new Semaphore(outstanding);
            // Up to `outstanding` copies of the frame back to back: every free slot is filled in one write.
            byte[] batch = new byte[frame.length * outstanding];
            for (int i = 0; i < outstanding; i++) {
                System.arraycopy(frame, 0, batch, i * frame.length, frame.length);
            }
            writer = new Thread(() -> {
                try {
                    while (!stopped) {
                        slots.acquire();
                        if (stopped) {
                            break;
                        }
                        // Capped: stop() releases a flood of permits to wake this thread, and may do so right here.
                        int free = Math.min(outstanding, 1 + slots.drainPermits());
                        out.write(batch, 0, free * frame.length);
                        out.flush();
                        sent.release(free);
                    }
                } catch (Exception e) {
                    failure = e;
                } finally {
                    writerDone = true;
                }
            }, "floor-writer");
            reader = new Thread(() -> {
                try {
                    while (true) {
                        // Polls only to notice the end; while frames flow, release() wakes it at once.
                        if (!sent.tryAcquire(10, TimeUnit.MILLISECONDS)) {
                            if (writerDone && sent.availablePermits() == 0) {
                                return;
                            }
                            continue;
                        }
                        readReply();
                        replies.increment();
                        slots.release();
                    }
                } catch (Exception e) {
                    failure = e;
                }
            }, "floor-reader");
            writer.start();
            reader.start();
        }

        /** Stops sending, reads every reply still due, so that the process is idle again. */
        void stop() throws Exception {
            stopped = true;
            slots.release(1_000_000);
            writer.join();
            reader.join();
            if (failure != null) {
                throw new IllegalStateException("floor pump failed", failure);
            }
        }
    }

    @Override
    public void close() throws java.io.IOException {
        out.close(); // end of input: the echo leaves its loop
        try {
            if (!process.waitFor(5, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor();
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }
}
