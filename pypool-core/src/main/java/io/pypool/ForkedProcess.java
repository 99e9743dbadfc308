package io.pypool;

import java.io.BufferedOutputStream;
import java.io.ByteArrayInputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;

/**
 * A worker forked by the fork server, seen as a {@link Process} so that {@link ProcessTransport}
 * speaks to it exactly as to a spawned worker: its input, output and stderr are its three socket
 * connections, and its exit is what the fork server reports from {@code waitpid}, at once. It is
 * not the JVM's child: it is signalled by pid, and only while its exit has not been reported, so a
 * reused pid is never hit.
 */
final class ForkedProcess extends Process {
    private final long pid;
    private final OutputStream input;
    private final InputStream output;
    private final InputStream error;
    private final CompletableFuture<Integer> exit;

    private ForkedProcess(long pid, OutputStream input, InputStream output, InputStream error, CompletableFuture<Integer> exit) {
        this.pid = pid;
        this.input = input;
        this.output = output;
        this.error = error;
        this.exit = exit;
    }

    /** A running worker on its connections; {@code exit} completes with its status (128 + n for signal n). */
    static ForkedProcess connected(long pid, SocketChannel in, SocketChannel out, SocketChannel err,
                                   CompletableFuture<Integer> exit) {
        // Closed on exit: writing to it is pointless now, and the pipe of a spawned worker would be gone too.
        exit.whenComplete((status, failure) -> WorkerSockets.closeQuietly(in));
        InputStream output = Channels.newInputStream(out);
        InputStream error = Channels.newInputStream(err);
        // Buffered like a spawned process's stdin: the writer thread's frames go out in one write.
        OutputStream input = new BufferedOutputStream(Channels.newOutputStream(in), 8192);
        return new ForkedProcess(pid, input, atEnd(output, () -> WorkerSockets.closeQuietly(output)),
                atEnd(error, () -> WorkerSockets.closeQuietly(error)), exit);
    }

    /**
     * A worker that ended before it could speak: it shows the frames and stderr it would have
     * written, then its exit (a fork server whose import failed, reported once for each worker).
     */
    static ForkedProcess replay(long pid, byte[] frames, List<String> stderr, int status) {
        byte[] err = stderr.isEmpty() ? new byte[0]
                : (String.join("\n", stderr) + "\n").getBytes(java.nio.charset.StandardCharsets.UTF_8);
        CompletableFuture<Integer> exit = new CompletableFuture<>();
        // It "exits" once its frames are read, as a spawned worker's exit follows what it wrote.
        return new ForkedProcess(pid, OutputStream.nullOutputStream(),
                atEnd(new ByteArrayInputStream(frames), () -> exit.complete(status)), new ByteArrayInputStream(err), exit);
    }

    /** Runs {@code then} when a read finds the end: a connection is released as soon as all on it was read. */
    private static InputStream atEnd(InputStream in, Runnable then) {
        return new FilterInputStream(in) {
            @Override
            public int read() throws IOException {
                int b = super.read();
                if (b < 0) {
                    then.run();
                }
                return b;
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                int n = super.read(b, off, len);
                if (n < 0) {
                    then.run();
                }
                return n;
            }
        };
    }

    @Override
    public OutputStream getOutputStream() {
        return input;
    }

    @Override
    public InputStream getInputStream() {
        return output;
    }

    @Override
    public InputStream getErrorStream() {
        return error;
    }

    @Override
    public int waitFor() throws InterruptedException {
        try {
            return exit.get();
        } catch (ExecutionException e) {
            throw new IllegalStateException(e.getCause());
        }
    }

    @Override
    public boolean waitFor(long timeout, TimeUnit unit) throws InterruptedException {
        try {
            exit.get(timeout, unit);
            return true;
        } catch (TimeoutException e) {
            return false;
        } catch (ExecutionException e) {
            return true;
        }
    }

    @Override
    public int exitValue() {
        if (!exit.isDone()) {
            throw new IllegalThreadStateException("process " + pid + " has not exited");
        }
        return exit.join();
    }

    @Override
    public boolean isAlive() {
        return !exit.isDone();
    }

    @Override
    public long pid() {
        return pid;
    }

    @Override
    public CompletableFuture<Process> onExit() {
        return exit.thenApply(status -> this);
    }

    @Override
    public ProcessHandle toHandle() {
        return live().orElseThrow(() -> new IllegalStateException("process " + pid + " has exited"));
    }

    @Override
    public Stream<ProcessHandle> descendants() {
        return live().map(ProcessHandle::descendants).orElseGet(Stream::empty);
    }

    @Override
    public void destroy() {
        live().ifPresent(ProcessHandle::destroy);
    }

    @Override
    public Process destroyForcibly() {
        live().ifPresent(ProcessHandle::destroyForcibly);
        return this;
    }

    @Override
    public boolean supportsNormalTermination() {
        return true;
    }

    private Optional<ProcessHandle> live() {
        return exit.isDone() ? Optional.empty() : ProcessHandle.of(pid);
    }
}
