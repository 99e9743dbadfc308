package io.pypool;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One call on its way through the pool, owned by one state machine:
 * QUEUED, then SENT (written to one worker), or ABANDONED (failed, cancelled or past its deadline
 * before it was sent). Every move is a compare-and-set, so a call that is done or past its
 * deadline is never sent, and a call is sent at most once per try. The future completes exactly
 * once: with the worker's reply or with a typed failure; whoever completes it first wins, and a
 * reply that comes after that is dropped, which is what keeps late replies from other callers.
 */
final class Call extends CompletableFuture<Call.Reply> {

    /** A worker's answer; attachments is null unless the reply carried binary attachments. */
    record Reply(byte kind, byte[] body, Worker worker, byte[][] attachments) {
        Reply(byte kind, byte[] body, Worker worker) {
            this(kind, body, worker, null);
        }
    }

    /** What the call is for: a caller's call, a session's restore step, or a pool-internal notice. */
    enum Kind { USER, RESTORE, INTERNAL }

    private static final int QUEUED = 0;
    private static final int SENT = 1;
    private static final int ABANDONED = 2;

    final String command;
    final SessionEntry session;
    final byte[] frame;
    final long startNanos;
    final long deadlineNanos;
    /** Safe to run twice: the caller said so. Such a call is retried once if its worker dies under it. */
    final boolean idempotent;
    final Kind kind;
    /** The items of a streamed call as they arrive; null for a plain call. */
    final StreamItems items;
    /** The call whose Java function made this one (a nested call), or null. */
    volatile Call parent;
    /** The one retry of an idempotent call has been used. */
    private volatile boolean retried;

    private final AtomicInteger phase = new AtomicInteger(QUEUED);
    /** Set while the call holds one of its session's strand slots; freed once, by {@link #settle()}. */
    private volatile boolean holdsStrandSlot;
    private final java.util.concurrent.atomic.AtomicBoolean settled = new java.util.concurrent.atomic.AtomicBoolean();
    /** The worker it was sent to and the request id it got there; null/0 while it waits. */
    private volatile Worker worker;
    private volatile long requestId;
    /** When it was written to its worker, on the pool's clock: how long commands take is measured from here. */
    private volatile long sentNanos;
    /** When it last left the queue to be written, in real time; 0 while it never has (listeners read it). */
    private long markedSentNanos;

    Call(String command, SessionEntry session, byte[] frame, long startNanos, long timeoutNanos,
         boolean idempotent, Kind kind) {
        this(command, session, frame, startNanos, timeoutNanos, idempotent, kind, null);
    }

    Call(String command, SessionEntry session, byte[] frame, long startNanos, long timeoutNanos,
         boolean idempotent, Kind kind, StreamItems items) {
        this.items = items;
        this.command = command;
        this.session = session;
        this.frame = frame;
        this.startNanos = startNanos;
        this.deadlineNanos = startNanos + timeoutNanos;
        this.idempotent = idempotent;
        this.kind = kind;
    }

    /**
     * QUEUED to SENT: true if the caller may write it now. False if it is done, abandoned, or past
     * its deadline (then it stays QUEUED, and whoever watches its deadline fails it).
     */
    boolean markSent(long now) {
        if (isDone()) {
            phase.compareAndSet(QUEUED, ABANDONED);
            return false;
        }
        if (pastDeadline(now)) {
            return false;
        }
        if (!phase.compareAndSet(QUEUED, SENT)) {
            return false;
        }
        markedSentNanos = now; // written before the call can complete, so its completion publishes it
        return true;
    }

    long markedSentNanos() {
        return markedSentNanos;
    }

    /** QUEUED to ABANDONED: true if it was never sent and now never will be. */
    boolean abandonIfQueued() {
        return phase.compareAndSet(QUEUED, ABANDONED);
    }

    /**
     * An idempotent call whose worker died under it goes back to QUEUED for its one retry; a
     * stream only while none of its items arrived (its consumer must never see one twice).
     */
    boolean requeueForRetry() {
        if (retried || isDone() || (items != null && items.received() > 0) || !phase.compareAndSet(SENT, QUEUED)) {
            return false;
        }
        retried = true;
        worker = null;
        requestId = 0;
        return true;
    }

    void takeStrandSlot() {
        holdsStrandSlot = true;
    }

    /**
     * The worker is done with it (answered it, died, or it was dropped before it was sent): its
     * session's strand may send the next call. Runs once; later calls do nothing.
     */
    void settle() {
        if (holdsStrandSlot && settled.compareAndSet(false, true)) {
            session.strandSlotFreed();
        }
    }

    /** SENT back to QUEUED: it was handed to a worker that had already closed its input. */
    boolean unsend() {
        if (!phase.compareAndSet(SENT, QUEUED)) {
            return false;
        }
        worker = null;
        requestId = 0;
        return true;
    }

    void sentTo(Worker worker, long requestId, long clockNow) {
        this.requestId = requestId;
        this.sentNanos = clockNow;
        this.worker = worker;
    }

    long sentNanos() {
        return sentNanos;
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

    boolean internal() {
        return kind == Kind.INTERNAL;
    }
}
