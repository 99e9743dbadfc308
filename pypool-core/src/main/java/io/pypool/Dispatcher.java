package io.pypool;

import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Routes calls to workers. An anonymous call claims a slot on the least loaded READY worker with
 * a CAS, or waits in the pool's lock-free queue (bounded by {@code maxQueuedCalls}); a session's
 * call comes from its strand and goes to the worker it is pinned to, waiting in that worker's own
 * queue when its slots are taken. A worker with fewer handler threads than slots is sent calls
 * that would wait in its input only while it keeps answering ({@link Worker#flowing}). Whoever frees a slot hands it to the next waiting call
 * ({@link #pump}). Deadlines, crashes and retries settle calls here, each by its state machine.
 */
final class Dispatcher {
    private static final Logger LOG = LoggerFactory.getLogger(PythonPool.class);
    /** How long past its deadline a worker may still run a call before it is retired. */
    static final long OVERRUN_GRACE_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final PoolEngine pool;
    private final ConcurrentLinkedQueue<Call> queue = new ConcurrentLinkedQueue<>();
    /**
     * Nested calls (made by Java functions for calls that wait on them) waiting for a worker: they
     * go before the pool's other queued calls, which could otherwise hold every slot they need.
     */
    private final ConcurrentLinkedQueue<Call> nested = new ConcurrentLinkedQueue<>();
    /** Room in the pool's queue: one permit per anonymous call that may wait. */
    private final Semaphore room;
    private final AtomicInteger queued = new AtomicInteger();
    /** Session and pool-internal calls waiting in workers' own queues (never bounded by maxQueuedCalls). */
    private final AtomicInteger queuedOnWorkers = new AtomicInteger();

    Dispatcher(PoolEngine pool) {
        this.pool = pool;
        this.room = new Semaphore(pool.settings().maxQueuedCalls());
    }

    int queued() {
        return queued.get() + queuedOnWorkers.get();
    }

    int queuedAnonymous() {
        return queued.get();
    }

    // ---- anonymous calls --------------------------------------------------------------------

    /**
     * Sends an anonymous call to a worker with a free slot, or queues it. With {@code mayWait}
     * (a blocking caller under the WAIT saturation policy) a full queue is waited on within the
     * call's deadline; otherwise a full queue fails the call at once.
     */
    void submit(Call call, boolean mayWait) throws InterruptedException {
        if (pool.isClosed()) {
            if (call.abandonIfQueued()) {
                call.completeExceptionally(new PoolClosedException(pool.name(), "the pool is closed; call '"
                        + call.command + "' was not run"));
            }
            return;
        }
        Worker w = acquireLeastLoaded();
        if (w == null && call.parent != null) {
            w = lendParentsWorker(call.parent);
        }
        if (w != null) {
            sendOn(w, call);
            repumpAfterSend(w);
            return;
        }
        if (!room.tryAcquire()) {
            if (!mayWait) {
                call.completeExceptionally(saturated(call));
                return;
            }
            long left = call.remainingNanos(System.nanoTime());
            if (left <= 0 || !room.tryAcquire(left, TimeUnit.NANOSECONDS)) {
                if (call.abandonIfQueued()) {
                    call.completeExceptionally(new CallTimeoutException(pool.name(), "call '" + call.command
                            + "' timed out after " + call.elapsedMillis(System.nanoTime()) + " ms waiting for room in "
                            + "the pool's queue (maxQueuedCalls " + pool.settings().maxQueuedCalls() + ", saturation "
                            + "policy WAIT) " + pool.stateSummary(), false));
                }
                return;
            }
        }
        queued.incrementAndGet();
        (call.parent != null ? nested : queue).add(call);
        for (Worker ready : pool.workers()) {
            pump(ready);
        }
    }

    /**
     * A slot beyond the limit, for a nested call, on the worker whose async handler waits on the
     * function that makes it: that handler holds a slot but no thread while it waits, so the
     * worker can run the nested call now, where otherwise every slot may be held by calls that
     * wait on nested calls, and the pool would stand until their deadlines. Not for a sync
     * handler: its thread is the one the nested call would need.
     */
    private Worker lendParentsWorker(Call parent) {
        Worker w = parent.worker();
        if (w != null && w.isReady() && w.isPending(parent) && w.holdsNoThread(parent) && w.hasFreeThread()) {
            w.acquireBeyondLimit();
            return w;
        }
        return null;
    }

    private boolean nothingQueued() {
        return queue.isEmpty() && nested.isEmpty();
    }

    private PoolSaturatedException saturated(Call call) {
        return new PoolSaturatedException(pool.name(), "call '" + call.command + "' rejected: "
                + pool.settings().maxQueuedCalls() + " calls already wait for a worker (maxQueuedCalls) "
                + pool.stateSummary());
    }

    private Worker acquireLeastLoaded() {
        Worker[] ws = pool.workers();
        int n = ws.length;
        long now = pool.clock().nanoTime();
        for (int attempt = 0; attempt < n; attempt++) {
            Worker best = null;
            int bestLoad = Integer.MAX_VALUE;
            int start = n > 1 ? ThreadLocalRandom.current().nextInt(n) : 0;
            for (int i = 0; i < n; i++) {
                Worker w = ws[(start + i) % n];
                int load = w.inFlight();
                if (load < bestLoad && w.isReady() && w.hasFreeSlot() && w.flowing(now, 0)) {
                    best = w;
                    bestLoad = load;
                }
            }
            if (best == null) {
                return null;
            }
            if (best.tryAcquire()) {
                return best;
            }
        }
        return null;
    }

    // ---- calls for one chosen worker (sessions, pool-internal) ------------------------------------

    /**
     * Sends a call to this worker, now if it has a free slot, else through its own queue. The
     * caller made sure the worker is in service.
     */
    void submitTo(Worker w, Call call) {
        if (w.isReady() && w.flowing(pool.clock().nanoTime(), 0) && w.tryAcquire()) {
            sendOn(w, call);
            repumpAfterSend(w);
            return;
        }
        queuedOnWorkers.incrementAndGet();
        w.queueSessionCall(call);
        pump(w);
        if (!w.inService() && w.removeSessionCall(call)) {
            // It left service between the caller's check and the enqueue, after its queue was emptied.
            queuedOnWorkers.decrementAndGet();
            pool.sessions().redispatch(call, "worker " + w.id + " " + leftService(w));
        }
    }

    /**
     * Between taking a slot and being written, a call of an async handler or a stream counts as
     * one that holds a handler thread ({@link Worker#flowing} sees it only once it is written):
     * a call submitted meanwhile may find no worker flowing and wait in a queue, and its own pump
     * may see the same. Whoever finished such a write looks at the queues again, so that nothing
     * waits next to a free slot with no reply to come and pump it.
     */
    private void repumpAfterSend(Worker w) {
        if (w.isReady() && (!nothingQueued() || w.hasSessionCalls())) {
            pump(w);
        }
    }

    /** A setup step for a starting worker: sent directly, it may not be READY yet. */
    void sendSetup(Worker w, Call call) {
        if (!w.tryAcquire()) {
            call.completeExceptionally(new WorkerCrashedException(pool.name(), w.id, "worker " + w.id
                    + " had no free slot for its setup step '" + call.command + "'", null, List.of()));
            return;
        }
        sendOn(w, call);
    }

    static String leftService(Worker w) {
        String reason = w.endReason();
        return reason == null ? "left service" : reason;
    }

    // ---- sending and pumping -------------------------------------------------------------------

    /** Sends on a slot the caller holds; a call that is done or out of time is dropped instead. */
    private void sendOn(Worker w, Call call) {
        long now = System.nanoTime();
        if (!call.markSent(now)) {
            w.releaseSlot();
            unsendable(call, now);
            pump(w);
            return;
        }
        sendMarked(w, call, now);
    }

    /** Writes a call already moved to SENT, on a slot the caller holds. */
    private void sendMarked(Worker w, Call call, long now) {
        w.send(call, now);
        if (call.isDone() && call.kind == Call.Kind.USER) {
            sendCancel(w, call); // abandoned while it was being written: the cancel could not find it before
        }
        if (w.state() == Worker.State.STOPPED && w.gentle() && w.takeBack(call) && call.unsend()) {
            // Recycled between our pick and the write: its input was closed, the frame went
            // nowhere. The call goes elsewhere, untouched.
            w.releaseSlot();
            resend(call, "its worker was recycled");
            return;
        }
        if (!w.isAlive()) {
            // The worker ended while this call was handed to it. If its failure sweep already ran,
            // it missed this call: sweep again with the same verdict. If not, that sweep will see it.
            Function<Call, PypoolException> verdict = w.pendingFailure();
            if (verdict != null) {
                failPendingOrRetry(w, verdict);
            }
        }
    }

    /** A call that could not be sent: done already, or its deadline passed while it waited. */
    private void unsendable(Call call, long now) {
        if (!call.isDone() && call.pastDeadline(now)) {
            call.completeExceptionally(timedOutWaiting(call, now));
        }
        call.settle();
    }

    /**
     * Moves waiting calls onto {@code w} while it has free slots and is {@linkplain Worker#flowing
     * flowing}: its sessions' calls first, then anonymous ones. Both the freeing and the enqueuing side run this after their own change, so
     * a call never waits next to a free slot.
     */
    void pump(Worker w) {
        while (w.isReady()) {
            if (!w.tryAcquire()) {
                return;
            }
            Call next = pollLive(w);
            if (next == null) {
                w.releaseSlot();
                if ((!w.hasSessionCalls() && nothingQueued()) || !w.flowing(pool.clock().nanoTime(), 0)) {
                    return;
                }
                continue;
            }
            sendMarked(w, next, System.nanoTime());
        }
    }

    /** The next call to send on {@code w}, already moved to SENT; calls out of time are failed on the way. */
    private Call pollLive(Worker w) {
        while (true) {
            if (!w.flowing(pool.clock().nanoTime(), 1)) { // 1: the slot pump holds is the next call's
                return null;
            }
            Call call = w.pollSessionCall();
            if (call != null) {
                queuedOnWorkers.decrementAndGet();
            } else {
                call = nested.poll();
                if (call == null) {
                    call = queue.poll();
                }
                if (call == null) {
                    return null;
                }
                queued.decrementAndGet();
                room.release();
            }
            long now = System.nanoTime();
            if (call.markSent(now)) {
                return call;
            }
            unsendable(call, now);
        }
    }

    // ---- replies, deadlines, failures ---------------------------------------------------------------

    /** A reply came: the slot is free again, the next call goes out first, then the caller learns. */
    void onReply(Worker w, FrameCodec.Frame frame) {
        Call call = w.answered(frame.requestId(), pool.clock().nanoTime());
        if (call == null) {
            throw new WorkerTransport.Violation("sent a reply to unknown request id " + frame.requestId()
                    + " (never sent to it, or answered already)");
        }
        w.releaseSlot();
        if (w.isReady()) {
            pump(w);
        } else if (w.state() == Worker.State.DRAINING) {
            pool.supervisor().finishDrainIfDone(w);
        }
        long now = System.nanoTime();
        if (call.kind == Call.Kind.USER && call.pastDeadline(now) && !call.isDone()) {
            // Past its deadline: late, even if its timer has not fired yet (a caller's wake-up, a
            // busy timer thread). The deadline decides, not which thread got there first.
            call.completeExceptionally(new CallTimeoutException(pool.name(), "call '" + call.command + "'" + in(call)
                    + " timed out after " + call.elapsedMillis(now) + " ms: worker " + w.id + " answered it after its "
                    + "deadline " + pool.stateSummary(), true));
        } else {
            call.complete(new Call.Reply(frame.kind(), frame.body(), w, frame.attachments()));
        }
        call.settle();
    }

    /** An item of a streamed call: handed to its consumer, within the credit the call gave. */
    void onStreamItem(Worker w, FrameCodec.Frame frame) {
        Call call = w.pendingCall(frame.requestId());
        if (call == null || call.items == null) {
            throw new WorkerTransport.Violation("sent a stream item for request id " + frame.requestId()
                    + ", which is not a stream it runs");
        }
        w.heardFrom(pool.clock().nanoTime());
        if (!call.items.offer(frame)) {
            throw new WorkerTransport.Violation("sent more items of stream '" + call.command + "' than its credit allowed");
        }
    }

    /**
     * The call's deadline passed (seen by its blocking caller, or by the timer for other calls).
     * A call not yet sent is abandoned and never will be. A call sent to a worker fails now; the
     * worker is taken out of service only if a call it is running (not one waiting in its input,
     * which it will refuse as expired) is past its deadline.
     */
    void onDeadline(Call call) {
        long now = System.nanoTime();
        if (call.isDone()) {
            return;
        }
        if (call.abandonIfQueued()) {
            removeFromQueues(call);
            call.completeExceptionally(timedOutWaiting(call, now));
            call.settle();
            return;
        }
        Worker w = call.worker();
        if (w == null) {
            // Marked SENT, not yet written (a moment's window): fail it; the send completes nothing.
            call.completeExceptionally(timedOutWaiting(call, now));
            return;
        }
        boolean running = w.isPending(call) && w.started(call);
        String where = running
                ? "running on worker " + w.id + " (pid " + w.pid() + "); its late reply will reach nobody, and the "
                        + "worker is replaced if the call still runs " + OVERRUN_GRACE_NANOS / 1_000_000
                        + " ms past its deadline"
                : "sent to worker " + w.id + " and not started there yet (it will not be)";
        if (call.completeExceptionally(new CallTimeoutException(pool.name(), "call '" + call.command + "'" + in(call)
                + " timed out after " + call.elapsedMillis(now) + " ms " + where + " " + pool.stateSummary(), running))) {
            sendCancel(w, call); // the handler may stop early (pypool.cancelled()); one that does not is judged below
        }
        pool.timers().after(OVERRUN_GRACE_NANOS, () -> retireIfOverrun(w, call));
    }

    /**
     * A stream whose worker sent nothing for its idle timeout while its consumer waited: failed,
     * and its handler told to stop.
     */
    void onIdle(Call call, long idleMillis) {
        if (call.completeExceptionally(new CallTimeoutException(pool.name(), "stream '" + call.command + "'" + in(call)
                + " timed out: its worker sent no item for " + idleMillis + " ms (the stream's idle timeout) "
                + pool.stateSummary(), true))) {
            tellToStop(call);
        }
    }

    /**
     * A call a worker runs past its deadline is failed at once, but its worker is retired only if
     * it still runs the call a grace period later: a call that started with a millisecond left
     * and ran a little over must not cost a worker (tight deadlines would otherwise keep the
     * pool restarting workers); one that hangs does.
     */
    private void retireIfOverrun(Worker w, Call call) {
        long graceAgo = System.nanoTime() - OVERRUN_GRACE_NANOS;
        // A stream holds no handler thread, but one still unanswered a grace period past its own
        // deadline ignored its cancel (its generator is stuck between items or in its finally):
        // left alone it would keep its slot, and a session's strand, for the life of the worker.
        boolean stuckStream = call.items != null && call.pastDeadline(graceAgo);
        if (w.isPending(call) && (stuckStream || w.runningPastDeadline(graceAgo))) {
            pool.supervisor().retire(w, "ran a call " + OVERRUN_GRACE_NANOS / 1_000_000
                    + " ms past its deadline (the last to time out: '" + call.command + "')", false);
        } else if (w.allPendingPastDeadline(graceAgo)) {
            pool.supervisor().retire(w, "holds only calls " + OVERRUN_GRACE_NANOS / 1_000_000
                    + " ms past their deadlines in every slot", false);
        }
    }

    private CallTimeoutException timedOutWaiting(Call call, long now) {
        return new CallTimeoutException(pool.name(), "call '" + call.command + "'" + in(call) + " timed out after "
                + call.elapsedMillis(now) + " ms waiting for a worker " + pool.stateSummary(), false);
    }

    private static String in(Call call) {
        return call.session == null ? "" : " in " + call.session;
    }

    /**
     * A caller stopped waiting (interrupt, cancelled future, a stream closed or dropped): a queued
     * call is never sent; a sent one is told to stop (see {@link #tellToStop}).
     */
    void abandon(Call call, RuntimeException why) {
        if (call.abandonIfQueued()) {
            removeFromQueues(call);
            call.settle();
            call.completeExceptionally(why);
            return;
        }
        if (call.completeExceptionally(why)) {
            tellToStop(call);
        }
    }

    /**
     * Sends CANCEL for a call its worker still holds: a handler that honours it ends early and
     * its worker serves on. One that does not keeps its slot until it ends; if it still runs a
     * grace period past the call's own deadline, the usual overrun rule retires the worker. A
     * cancel alone never ends a worker or the sessions on it.
     */
    private void tellToStop(Call call) {
        Worker w = call.worker();
        if (w == null || !w.isPending(call)) {
            return; // not written yet (sendMarked sends the cancel then), or answered already
        }
        sendCancel(w, call);
        long left = Math.max(0, call.remainingNanos(System.nanoTime()));
        pool.timers().after(left + OVERRUN_GRACE_NANOS, () -> retireIfOverrun(w, call));
    }

    private static final byte[] NO_BODY = new byte[0];

    private static void sendCancel(Worker w, Call call) {
        if (w.isPending(call)) {
            w.sendControl(FrameCodec.control(FrameCodec.CANCEL, call.requestId(), NO_BODY), false);
        }
    }

    /** Gives a stream's consumed credit back to the worker that runs it. */
    void sendCredit(Call call, long items, long bytes) {
        Worker w = call.worker();
        if (w != null && w.isPending(call)) {
            byte[] body = ("{\"items\":" + items + ",\"bytes\":" + bytes + "}").getBytes(java.nio.charset.StandardCharsets.US_ASCII);
            w.sendControl(FrameCodec.control(FrameCodec.CREDIT, call.requestId(), body), false);
        }
    }

    private void removeFromQueues(Call call) {
        if (queue.remove(call) || nested.remove(call)) {
            queued.decrementAndGet();
            room.release();
            return;
        }
        for (Worker w : pool.allWorkers()) {
            if (w.removeSessionCall(call)) {
                queuedOnWorkers.decrementAndGet();
                return;
            }
        }
        if (call.session != null) {
            call.session.removeWaiting(call);
        }
    }

    /** Fails what was running on a gone worker, except idempotent calls, which get one more try elsewhere. */
    void failPendingOrRetry(Worker w, Function<Call, PypoolException> verdict) {
        w.failWith(verdict);
        long now = System.nanoTime();
        for (Call call : w.takeAllPending()) {
            boolean canMove = call.session == null || call.session.restorable();
            if (call.idempotent && !call.pastDeadline(now) && canMove && call.requeueForRetry()) {
                LOG.info("pool '{}': retrying idempotent call '{}' after worker {} died under it", pool.name(),
                        call.command, w.id);
                resend(call, "its worker died");
            } else {
                call.completeExceptionally(verdict.apply(call));
                call.settle();
            }
        }
    }

    /** Sends a call again, anonymous or through its session (which moves if it must). */
    private void resend(Call call, String why) {
        if (call.session != null) {
            pool.sessions().redispatch(call, why);
            return;
        }
        try {
            submit(call, false);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt(); // not reached: submit waits only when told to
        }
    }

    /** The calls waiting in a worker's own queue, when it leaves service: moved with their sessions, or failed. */
    void drainWorkerQueue(Worker w, String why) {
        Call call;
        while ((call = w.pollSessionCall()) != null) {
            queuedOnWorkers.decrementAndGet();
            if (call.session == null) {
                // A configureWorkers run: what it would change is gone with the worker, and a
                // replacement runs the setup steps anyway.
                if (call.abandonIfQueued()) {
                    call.completeExceptionally(new WorkerCrashedException(pool.name(), w.id, "worker " + w.id
                            + " ended before call '" + call.command + "' ran: " + why, null, List.of()));
                }
                continue;
            }
            pool.sessions().redispatch(call, "worker " + w.id + " " + why);
        }
    }

    /** At close: everything still waiting fails with this. */
    void failAllQueued(Function<Call, PypoolException> failure) {
        Call call;
        while ((call = nested.poll()) != null || (call = queue.poll()) != null) {
            queued.decrementAndGet();
            room.release();
            if (call.abandonIfQueued()) {
                call.completeExceptionally(failure.apply(call));
            }
        }
        for (Worker w : pool.allWorkers()) {
            while ((call = w.pollSessionCall()) != null) {
                queuedOnWorkers.decrementAndGet();
                if (call.abandonIfQueued()) {
                    call.completeExceptionally(failure.apply(call));
                    call.settle();
                }
            }
        }
    }
}
