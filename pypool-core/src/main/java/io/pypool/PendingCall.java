package io.pypool;

import java.util.concurrent.CompletableFuture;

/**
 * One call on its way through the pool. It completes exactly once: with the worker's reply, or
 * with a typed failure (timeout, crash, closed pool...). Whoever completes it first wins; a reply
 * that arrives after that is dropped, which is what keeps late replies away from other callers.
 */
final class PendingCall extends CompletableFuture<PendingCall.Reply> {

    record Reply(byte kind, byte[] body, Worker worker) {}

    final String command;
    final SessionEntry session;
    final byte[] frame;
    final long startNanos;
    final long deadlineNanos;
    /** Safe to run twice: the caller said so. Such a call is retried once if its worker dies under it. */
    final boolean idempotent;
    /** The restore step of a session being rebuilt on a new worker; it goes ahead of the session's waiting calls. */
    final boolean restore;
    volatile boolean retried;

    /** The worker it was sent to and the request id it got there; null/0 while it waits. */
    private volatile Worker worker;
    private volatile long requestId;

    PendingCall(String command, SessionEntry session, byte[] frame, long startNanos, long timeoutNanos,
                boolean idempotent, boolean restore) {
        this.idempotent = idempotent;
        this.restore = restore;
        this.command = command;
        this.session = session;
        this.frame = frame;
        this.startNanos = startNanos;
        this.deadlineNanos = startNanos + timeoutNanos;
    }

    void sentTo(Worker worker, long requestId) {
        this.requestId = requestId;
        this.worker = worker;
    }

    Worker worker() {
        return worker;
    }

    long requestId() {
        return requestId;
    }

    boolean pastDeadline(long now) {
        return now - deadlineNanos >= 0;
    }

    long remainingNanos(long now) {
        return deadlineNanos - now;
    }

    long elapsedMillis(long now) {
        return (now - startNanos) / 1_000_000;
    }
}
