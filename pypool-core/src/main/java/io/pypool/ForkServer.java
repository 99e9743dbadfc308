package io.pypool;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The fork server's template process ({@code python/pypool/forkserver.py}) and its control
 * channel. The template is started like a worker, and is spoken to like one, through a
 * {@link ProcessTransport}: its stderr is logged, its death is seen, its group is killed with the
 * pool's. On the channel, in worker frames: its hello (with why forking would be unsafe), its
 * import failure, "fork" requests and their pids, and every worker's exit status the moment the
 * template reaps it.
 */
final class ForkServer implements WorkerTransport.Events, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(PythonPool.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int SIGKILL_STATUS = 128 + 9;

    /** The template's hello: forking is safe when {@code unsafe} is empty. */
    record Ready(long pid, List<String> unsafe) {}

    /** The template ended before its hello; {@code frames} is its STARTUP_FAILED frame, if it sent one. */
    record Failed(long pid, byte[] frames, List<String> stderrTail, int status, String describe) {}

    /** A forked worker, and its exit status as the template will report it. */
    record Forked(long pid, CompletableFuture<Integer> exit) {}

    private final String poolName;
    private final ProcessTransport transport;
    private final CompletableFuture<Object> outcome = new CompletableFuture<>();
    private final Map<Long, CompletableFuture<Forked>> forks = new ConcurrentHashMap<>();
    private final Map<Long, CompletableFuture<Integer>> exits = new ConcurrentHashMap<>();
    private final AtomicLong requests = new AtomicLong();
    private volatile byte[] startupFailure;
    private volatile WorkerTransport.Death death;

    private ForkServer(String poolName, Process process, GroupReaper reaper, Executor blocking, int maxFrameBytes) {
        this.poolName = poolName;
        this.transport = new ProcessTransport(poolName, "fork-server", process, this, reaper, blocking, maxFrameBytes);
    }

    static ForkServer start(String poolName, ProcessBuilder builder, GroupReaper reaper, Executor blocking, int maxFrameBytes)
            throws IOException {
        Process process;
        try {
            process = builder.start();
        } catch (IOException e) {
            throw new IOException("could not start '" + builder.command().get(0) + "': " + e.getMessage(), e);
        }
        ForkServer server = new ForkServer(poolName, process, reaper, blocking, maxFrameBytes);
        server.transport.start();
        return server;
    }

    long pid() {
        return transport.pid();
    }

    boolean isAlive() {
        return death == null && !transport.exited();
    }

    /**
     * Waits until the template has imported the handler modules: a {@link Ready} or a
     * {@link Failed}; on timeout it is killed and an IOException says so.
     */
    Object awaitReady(Duration timeout) throws IOException, InterruptedException {
        try {
            return outcome.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            transport.kill("it did not import the handler modules within the startup timeout");
            throw new IOException("it did not become ready within the startup timeout of " + timeout.toMillis()
                    + " ms (its fork server, pid " + pid() + ", was still importing the handler modules)");
        } catch (ExecutionException e) {
            throw new IOException(e.getCause().getMessage(), e.getCause());
        }
    }

    /** Asks for one worker, which will connect to {@code socket} presenting {@code token}. */
    CompletableFuture<Forked> fork(String workerId, Path socket, String token) {
        long id = requests.incrementAndGet();
        CompletableFuture<Forked> forked = new CompletableFuture<>();
        forks.put(id, forked);
        try {
            byte[] frame = FrameCodec.encodeRequest(JSON, "fork",
                    Map.of("worker", workerId, "socket", socket.toString(), "token", token), null);
            FrameCodec.stampHeader(frame, FrameCodec.REQUEST, id);
            transport.send(frame, frame.length);
        } catch (IOException e) {
            forks.remove(id);
            forked.completeExceptionally(e);
        }
        if (death != null) { // it may have died before the request was recorded
            failForks();
        }
        return forked;
    }

    @Override
    public void onFrame(FrameCodec.Frame frame) {
        switch (frame.kind()) {
            case FrameCodec.HELLO -> {
                List<String> unsafe = new ArrayList<>();
                JsonNode hello = parse(frame);
                hello.path("unsafe").forEach(r -> unsafe.add(r.asText()));
                outcome.complete(new Ready(hello.path("pid").asLong(pid()), unsafe));
            }
            case FrameCodec.STARTUP_FAILED -> {
                byte[] whole = new byte[FrameCodec.HEADER_BYTES + frame.body().length];
                System.arraycopy(frame.body(), 0, whole, FrameCodec.HEADER_BYTES, frame.body().length);
                FrameCodec.stampHeader(whole, FrameCodec.STARTUP_FAILED, 0);
                startupFailure = whole;
                transport.closeInput(); // it exits (3) at the end of its input
            }
            case FrameCodec.REPLY_OK -> onReply(frame.requestId(), parse(frame));
            case FrameCodec.REPLY_ERROR -> {
                CompletableFuture<Forked> forked = forks.remove(frame.requestId());
                if (forked != null) {
                    forked.completeExceptionally(new IOException("the fork server could not fork: "
                            + parse(frame).path("message").asText()));
                }
            }
            default -> throw new WorkerTransport.Violation("the fork server sent an unexpected frame kind " + frame.kind());
        }
    }

    private void onReply(long requestId, JsonNode body) {
        if (requestId == 0) {
            CompletableFuture<Integer> exit = exits.remove(body.path("exited").asLong());
            if (exit != null) {
                exit.complete(body.path("status").asInt());
            }
            return;
        }
        CompletableFuture<Forked> forked = forks.remove(requestId);
        if (forked == null) {
            throw new WorkerTransport.Violation("the fork server answered request " + requestId + ", which nobody made");
        }
        // Recorded here, on the reader thread, before any later frame: its exit report comes after this.
        long pid = body.path("pid").asLong();
        CompletableFuture<Integer> exit = new CompletableFuture<>();
        exits.put(pid, exit);
        forked.complete(new Forked(pid, exit));
    }

    private static JsonNode parse(FrameCodec.Frame frame) {
        try {
            return JSON.readTree(frame.body());
        } catch (IOException e) {
            throw new WorkerTransport.Violation("the fork server sent an unreadable frame: " + FrameCodec.utf8(frame.body()));
        }
    }

    @Override
    public void onDeath(WorkerTransport.Death death) {
        this.death = death;
        int status = death.exitCode() == null ? -1 : death.exitCode();
        outcome.complete(new Failed(pid(), startupFailure == null ? new byte[0] : startupFailure,
                death.stderrTail(), status, death.describe()));
        failForks();
        if (!exits.isEmpty()) {
            LOG.warn("pool '{}': the fork server (pid {}) {}; its {} workers die with it", poolName, pid(),
                    death.describe(), exits.size());
        }
        // Nobody reaps them now: they die of their parent-death signal (SIGKILL), seen by polling.
        exits.forEach((pid, exit) -> ProcessHandle.of(pid).map(ProcessHandle::onExit)
                .orElse(CompletableFuture.completedFuture(null))
                .thenRun(() -> exit.complete(SIGKILL_STATUS)));
    }

    private void failForks() {
        forks.forEach((id, forked) -> {
            if (forks.remove(id, forked)) {
                forked.completeExceptionally(new IOException("the fork server (pid " + pid() + ") "
                        + death.describe() + " before it forked the worker"));
            }
        });
    }

    /** Kills it now (its workers die with it). */
    void kill(String why) {
        transport.kill(why);
    }

    /** End of its input: it kills what is left of its workers and exits; killed if it does not within 2 s. */
    @Override
    public void close() {
        transport.closeInput();
        try {
            if (!transport.awaitExit(2_000)) {
                transport.kill("the pool closed and it did not exit at end of input");
                transport.awaitExit(2_000);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            transport.kill("the pool closed");
        }
        transport.joinThreads(500);
    }
}
