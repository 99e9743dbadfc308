package io.pypool.ray;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pypool.WorkerLink;
import io.pypool.ray.internal.RayBridge;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One worker in a Ray actor (pypool.ray_relay's Relay). Frames go out through the actor's
 * {@code push}, batched and numbered, from the writing threads; everything comes back through a
 * long-poll {@code pull} on a puller thread, which also sees the actor's death: Ray fails the
 * outstanding pull when the actor dies, for whatever reason (killed, node lost, out of memory).
 */
final class RayLink implements WorkerLink {
    /** How long a pull may stay unanswered before the actor counts as hung (the relay answers within a second). */
    private static final long PULL_TIMEOUT_MS = 30_000;
    /** Bytes gathered into one push at most, so one push never grows without bound. */
    private static final int MAX_PUSH_BYTES = 4 << 20;
    /** How long a killed worker's actor has to report the end before Ray kills the actor itself. */
    private static final long KILL_GRACE_MS = 5_000;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final RayHost host;
    private final RayBridge ray;
    private final Object actor;
    private final String actorId;
    private final Listener listener;
    private final long startupMillis;
    private final ConcurrentLinkedQueue<byte[]> ops = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean ended = new AtomicBoolean();
    private final java.util.concurrent.locks.ReentrantLock sending = new java.util.concurrent.locks.ReentrantLock();
    private final Thread puller;
    private final ByteArrayOutputStream partialLine = new ByteArrayOutputStream();
    private volatile long pid = -1;
    private volatile String node;
    private volatile String nodeIp;
    private long nextSeq; // guarded by sending

    RayLink(RayHost host, String tag, Object actor, Listener listener, long startupMillis) {
        this.host = host;
        this.ray = host.bridge();
        this.actor = actor;
        this.actorId = ray.actorId(actor);
        this.listener = listener;
        this.startupMillis = startupMillis;
        this.puller = daemon(tag + "-ray-pull", this::pullLoop);
    }

    @Override
    public void start() {
        puller.start();
    }

    @Override
    public void write(byte[] bytes) {
        ops.add(op('W', bytes));
        sendQueued();
    }

    @Override
    public void closeInput() {
        ops.add(op('C', new byte[0]));
        sendQueued();
    }

    /**
     * Asks the actor to kill its worker's process group, so that its end is reported once nothing
     * of it runs (as a local worker's is); the actor itself goes when that report comes. An actor
     * that cannot be asked (not started yet) or does not report in time is killed through Ray.
     */
    @Override
    public void kill(String why) {
        if (pid < 0) {
            killActor();
            return;
        }
        try {
            ray.call(actor, "kill", null);
        } catch (RuntimeException e) {
            killActor();
            return;
        }
        CompletableFuture.delayedExecutor(KILL_GRACE_MS, TimeUnit.MILLISECONDS).execute(() -> {
            if (!ended.get()) {
                killActor();
            }
        });
    }

    @Override
    public long pid() {
        return pid;
    }

    @Override
    public String where() {
        String n = node;
        return "Ray actor " + shortId(actorId) + (n == null ? " (being placed; asks for " + host.resourcesText() + ")"
                : " on node " + shortId(n) + (nodeIp == null ? "" : " (" + nodeIp + ")") + ", pid " + pid);
    }

    /** The id of the node its actor was placed on, or null before it was placed. */
    String node() {
        return node;
    }

    void killActor() {
        try {
            ray.kill(actor);
        } catch (RuntimeException e) {
            // already gone, or the driver is going away: its death is reported either way
        }
    }

    /**
     * Sends what is queued, from the writing thread itself: submitting an actor call does not wait
     * for the actor, so no sender thread is needed, and a thread hand-off per frame is saved. One
     * thread at a time sends (in queue order, batching what has gathered); a writer that finds the
     * lock taken leaves its frame to the holder, who looks again after letting go.
     */
    private void sendQueued() {
        while (!ops.isEmpty() && sending.tryLock()) {
            try {
                byte[] first;
                while ((first = ops.poll()) != null) {
                    if (ended.get()) {
                        ops.clear();
                        return;
                    }
                    if (first[0] == 'C') {
                        push(first);
                        continue;
                    }
                    ByteArrayOutputStream batch = new ByteArrayOutputStream(Math.max(64, first.length));
                    batch.write(first, 0, first.length);
                    byte[] next;
                    while (batch.size() < MAX_PUSH_BYTES && (next = ops.peek()) != null && next[0] == 'W') {
                        ops.poll();
                        batch.write(next, 1, next.length - 1);
                    }
                    push(batch.toByteArray());
                }
            } finally {
                sending.unlock();
            }
        }
    }

    /** Sends one op (its first byte says which) with the next sequence number; the result is not awaited. */
    private void push(byte[] op) {
        ByteBuffer data = ByteBuffer.allocate(8 + op.length);
        data.putLong(nextSeq++).put(op);
        try {
            ray.call(actor, "push", data.array());
        } catch (RuntimeException e) {
            // Its number is spent: the actor would wait for it forever, so the worker is ended now.
            end(null, "pushing to its Ray actor failed: " + e.getMessage());
        }
    }

    private void pullLoop() {
        try {
            pull();
        } catch (Throwable e) { // a reader that died quietly would leave a worker that looks ready and hears nothing
            end(null, "reading its Ray actor failed: " + e);
        }
    }

    private void pull() {
        try {
            JsonNode info = JSON.readTree(ray.get(ray.call(actor, "info", null), placeMillis()));
            pid = info.path("pid").asLong(-1);
            node = info.path("node").isTextual() ? info.path("node").asText() : "unknown";
            nodeIp = info.path("ip").isTextual() ? info.path("ip").asText() : null;
        } catch (RayBridge.ActorLostException e) {
            end(null, "its Ray actor could not start: it " + e.getMessage());
            return;
        } catch (TimeoutException e) {
            end(null, "its Ray actor was not running within " + placeMillis() + " ms: no node placed it (it asks for "
                    + host.resourcesText() + "), or preparing its runtime env " + host.runtimeEnvText()
                    + " took longer (raise startupTimeout for pip or container runtime envs)");
            return;
        } catch (IOException e) {
            end(null, "its Ray actor said something unreadable when it started: " + e);
            return;
        } catch (RuntimeException e) { // Ray's own error could not even be read (a runtime env Ray refused, say)
            end(null, "its Ray actor could not start (Ray's error: " + e + "); check the runtime env "
                    + host.runtimeEnvText());
            return;
        }
        while (!ended.get()) {
            byte[] reply;
            try {
                reply = ray.get(ray.call(actor, "pull", null), PULL_TIMEOUT_MS);
            } catch (RayBridge.ActorLostException e) {
                end(null, "its Ray actor " + e.getMessage());
                return;
            } catch (TimeoutException e) {
                end(null, "its Ray actor stopped answering for " + PULL_TIMEOUT_MS / 1000 + " s");
                return;
            } catch (RayBridge.ShuttingDownException e) {
                end(null, e.getMessage()); // nothing more can be asked of Ray, not even a kill
                return;
            } catch (RuntimeException e) {
                end(null, "reaching its Ray actor failed: " + e);
                return;
            }
            Integer exit = deliver(reply);
            if (exit != null) {
                flushLine();
                end(exit, null); // its worker is gone; the actor, which only holds resources now, goes too
                return;
            }
        }
    }

    /** Hands the records of one pull to the listener; returns the exit status when one came. */
    private Integer deliver(byte[] reply) {
        if (reply == null) {
            return null; // an empty pull: Ray hands empty bytes from Python to Java as null
        }
        ByteBuffer in = ByteBuffer.wrap(reply);
        Integer exit = null;
        while (in.remaining() >= 5) {
            byte tag = in.get();
            int length = in.getInt();
            byte[] payload = new byte[length];
            in.get(payload);
            switch (tag) {
                case 'O' -> listener.output(payload);
                case 'E' -> lines(payload);
                case 'X' -> exit = Integer.valueOf(new String(payload, StandardCharsets.US_ASCII).strip());
                default -> {
                    end(null, "its Ray actor sent an unknown record '" + (char) tag + "'");
                    return null;
                }
            }
        }
        return exit;
    }

    private void lines(byte[] payload) {
        int start = 0;
        for (int i = 0; i < payload.length; i++) {
            if (payload[i] == '\n') {
                partialLine.write(payload, start, i - start);
                listener.stderrLine(partialLine.toString(StandardCharsets.UTF_8));
                partialLine.reset();
                start = i + 1;
            }
        }
        partialLine.write(payload, start, payload.length - start);
    }

    private void flushLine() {
        if (partialLine.size() > 0) {
            listener.stderrLine(partialLine.toString(StandardCharsets.UTF_8));
            partialLine.reset();
        }
    }

    /** Once: the worker has ended. Its actor is killed on every path (killing a dead one is harmless), so none holds resources after. */
    private void end(Integer exitCode, String lostBecause) {
        if (!ended.compareAndSet(false, true)) {
            return;
        }
        ops.clear();
        killActor();
        host.forget(this);
        listener.ended(exitCode, lostBecause);
    }

    /**
     * How long the actor may take to be placed and started: a little less than the pool's startup
     * timeout, so that when it runs out the worker's end says why rather than only "not ready".
     */
    private long placeMillis() {
        return Math.max(1_000, startupMillis - Math.min(2_000, startupMillis / 10));
    }

    private static byte[] op(char kind, byte[] payload) {
        byte[] op = new byte[1 + payload.length];
        op[0] = (byte) kind;
        System.arraycopy(payload, 0, op, 1, payload.length);
        return op;
    }

    private static String shortId(String id) {
        return id.length() > 12 ? id.substring(0, 12) : id;
    }

    private static Thread daemon(String name, Runnable body) {
        Thread t = new Thread(body, name);
        t.setDaemon(true);
        return t;
    }
}
