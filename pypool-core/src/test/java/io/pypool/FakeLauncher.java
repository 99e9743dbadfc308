package io.pypool;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntPredicate;

/**
 * Workers inside the JVM, behind the same seam as Python processes: each runs a scripted
 * {@link Handler} on its own FIFO handler threads, refuses calls whose time is up as the Python
 * runtime does, and reports its death like a process would. The engine's tests need no Python.
 */
final class FakeLauncher implements WorkerLauncher {
    static final ObjectMapper JSON = new ObjectMapper();
    /** Returned by a handler: the fake worker dies (as if killed by SIGKILL) instead of replying. */
    static final Object DIE = new Object();

    interface Handler {
        Object handle(FakeWorker worker, String command, JsonNode args, String session) throws Exception;
    }

    final List<FakeWorker> launched = new CopyOnWriteArrayList<>();
    /** Every command run, built-ins included, as "start:cmd" and "end:cmd", in the order it happened. */
    final List<String> log = new CopyOnWriteArrayList<>();
    private final int handlerThreads;
    private final Handler handler;
    private final AtomicInteger launches = new AtomicInteger();
    /** Which launches (1, 2, ...) fail to start. */
    volatile IntPredicate failLaunch = n -> false;

    FakeLauncher(int handlerThreads, Handler handler) {
        this.handlerThreads = handlerThreads;
        this.handler = handler;
    }

    @Override
    public WorkerTransport launch(String workerId, WorkerTransport.Events events) throws IOException {
        if (failLaunch.test(launches.incrementAndGet())) {
            throw new IOException("fake launch of " + workerId + " refused");
        }
        FakeWorker w = new FakeWorker(workerId, events);
        launched.add(w);
        return w;
    }

    int received(String command) {
        return launched.stream().mapToInt(w -> w.received.getOrDefault(command, new AtomicInteger()).get()).sum();
    }

    @Override
    public void close() {
        launched.forEach(w -> w.die(null, 0));
    }

    final class FakeWorker implements WorkerTransport {
        final String id;
        private final Events events;
        private final ExecutorService handlers;
        private final ExecutorService reader;
        private final AtomicBoolean dead = new AtomicBoolean();
        private final CountDownLatch deathLatch = new CountDownLatch(1);
        final Map<String, AtomicInteger> received = new ConcurrentHashMap<>();
        final AtomicInteger expired = new AtomicInteger();
        /** Frames other than requests (CANCEL, CREDIT, answers to callbacks), as "kind:id". */
        final List<String> controls = new CopyOnWriteArrayList<>();
        /** The request id the calling handler thread runs (handlers use it to send stream items). */
        final ThreadLocal<Long> current = new ThreadLocal<>();

        FakeWorker(String id, Events events) {
            this.id = id;
            this.events = events;
            this.handlers = Executors.newFixedThreadPool(handlerThreads, r -> Worker.daemon("fake-" + id + "-handler", r));
            this.reader = Executors.newSingleThreadExecutor(r -> Worker.daemon("fake-" + id + "-reader", r));
        }

        @Override
        public void start() {
            deliver(FrameCodec.HELLO, 0, "{\"python\":\"fake\"}");
        }

        @Override
        public void send(byte[] frame, long unreadBytes) {
            if (dead.get()) {
                return;
            }
            long received = System.nanoTime();
            long requestId = 0;
            for (int i = 0; i < 8; i++) {
                requestId = (requestId << 8) | (frame[8 + i] & 0xFF);
            }
            if (frame[4] != FrameCodec.REQUEST) {
                controls.add(frame[4] + ":" + requestId);
                return;
            }
            JsonNode request;
            try {
                request = JSON.readTree(Arrays.copyOfRange(frame, FrameCodec.HEADER_BYTES, frame.length));
            } catch (IOException e) {
                throw new AssertionError("the engine sent a request that is not JSON", e);
            }
            long id = requestId;
            String command = request.get("cmd").asText();
            long deadline = received + TimeUnit.MILLISECONDS.toNanos(request.get("deadline_ms").asLong());
            handlers.execute(() -> run(id, command, request, deadline));
        }

        private void run(long requestId, String command, JsonNode request, long deadline) {
            if (dead.get()) {
                return;
            }
            if (System.nanoTime() - deadline > 0) {
                expired.incrementAndGet();
                deliver(FrameCodec.REPLY_ERROR, requestId, "{\"kind\":\"expired\",\"type\":\"DeadlineExpired\","
                        + "\"message\":\"was not started: its deadline passed\",\"traceback\":\"\"}");
                return;
            }
            received.computeIfAbsent(command, k -> new AtomicInteger()).incrementAndGet();
            String session = request.hasNonNull("session") ? request.get("session").asText() : null;
            current.set(requestId);
            try {
                log.add("start:" + command);
                Object result = command.equals("ping") || command.equals("close_session") ? Map.of()
                        : handler.handle(this, command, request.get("args"), session);
                log.add("end:" + command);
                if (result == DIE) {
                    die(null, 137);
                    return;
                }
                deliver(FrameCodec.REPLY_OK, requestId, JSON.writeValueAsString(result));
            } catch (InterruptedException e) {
                // killed while running
            } catch (Exception e) {
                deliver(FrameCodec.REPLY_ERROR, requestId, "{\"kind\":\"exception\",\"type\":\"" + e.getClass().getSimpleName()
                        + "\",\"message\":\"" + e.getMessage() + "\",\"traceback\":\"\"}");
            }
        }

        void deliver(byte kind, long requestId, String body) {
            if (dead.get()) {
                return;
            }
            reader.execute(() -> {
                if (dead.get()) {
                    return;
                }
                try {
                    events.onFrame(new FrameCodec.Frame(kind, requestId, body.getBytes(StandardCharsets.UTF_8)));
                } catch (WorkerTransport.Violation v) {
                    die(v.getMessage(), 137);
                }
            });
        }

        /** Waits, inside a handler, until this worker dies: a hang. */
        void hang() throws InterruptedException {
            deathLatch.await();
            throw new InterruptedException("killed");
        }

        void die(String endedByPool, int exitCode) {
            if (!dead.compareAndSet(false, true)) {
                return;
            }
            deathLatch.countDown();
            handlers.shutdownNow();
            Executors.newSingleThreadExecutor(r -> Worker.daemon("fake-" + id + "-death", r)).execute(() -> {
                reader.shutdown();
                try {
                    reader.awaitTermination(5, TimeUnit.SECONDS);
                } catch (InterruptedException ignored) {
                    // report anyway
                }
                events.onDeath(new Death(exitCode, endedByPool, null, List.of()));
            });
        }

        /** End of input: like the runtime, it answers what it already has, then exits. */
        @Override
        public void closeInput() {
            handlers.shutdown();
            Worker.daemon("fake-" + id + "-closing", () -> {
                try {
                    handlers.awaitTermination(30, TimeUnit.SECONDS);
                } catch (InterruptedException ignored) {
                    // exit anyway
                }
                die(null, 0);
            }).start();
        }

        @Override
        public void kill(String why) {
            die(why, 137);
        }

        @Override
        public long pid() {
            return -1;
        }

        @Override
        public ProcFs.Sample sample() {
            return null;
        }

        @Override
        public List<String> stderrTail() {
            return List.of();
        }

        @Override
        public boolean exited() {
            return dead.get();
        }

        @Override
        public boolean awaitExit(long millis) throws InterruptedException {
            return deathLatch.await(millis, TimeUnit.MILLISECONDS);
        }

        @Override
        public void joinThreads(long millis) {
        }
    }
}
