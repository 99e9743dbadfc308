package io.pypool;

import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.Flow;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The non-blocking side of a stream, for one subscriber. The call starts at subscribe. Items go
 * to the subscriber as it requests them, from a drain that runs on the pool's callback executor
 * only while there is something to do (an item and demand, or the end), one run at a time: no
 * thread waits for items meanwhile.
 */
final class ItemPublisher<T> implements Flow.Publisher<T> {
    private static final Logger LOG = LoggerFactory.getLogger(PythonPool.class);

    private final PoolEngine pool;
    private final Supplier<Call> start;
    private final Class<T> itemType;
    private final AtomicBoolean subscribed = new AtomicBoolean();

    ItemPublisher(PoolEngine pool, Supplier<Call> start, Class<T> itemType) {
        this.pool = pool;
        this.start = start;
        this.itemType = itemType;
    }

    @Override
    public void subscribe(Flow.Subscriber<? super T> subscriber) {
        java.util.Objects.requireNonNull(subscriber, "subscriber");
        if (!subscribed.compareAndSet(false, true)) {
            subscriber.onSubscribe(Nothing.INSTANCE);
            subscriber.onError(new IllegalStateException("a pypool stream publisher takes one subscriber, and this "
                    + "one has had its subscriber; make another publisher to run the stream again"));
            return;
        }
        Call call;
        try {
            call = start.get();
        } catch (RuntimeException e) {
            subscriber.onSubscribe(Nothing.INSTANCE);
            subscriber.onError(e);
            return;
        }
        Drain<T> drain = new Drain<>(pool, call, itemType, subscriber, pool.settings().callbackExecutor());
        // The drain is held (one run counted) until onSubscribe has returned: items, the end, and
        // requests made inside onSubscribe only count runs meanwhile, so that no signal can reach
        // the subscriber before or during its onSubscribe (Reactive Streams 1.3, 1.9).
        drain.hold();
        call.items.onSignal(drain::schedule);
        try {
            subscriber.onSubscribe(drain);
        } catch (Throwable t) {
            // Rule 2.13: a subscriber that throws from onSubscribe is treated as cancelled.
            LOG.warn("pool '{}': the subscriber of stream '{}' threw from onSubscribe; the stream is cancelled",
                    pool.name(), call.command, t);
            drain.cancel();
            rethrowIfFatal(t);
            return;
        }
        drain.release();
    }

    /** Errors the JVM cannot go on after are not swallowed. */
    static void rethrowIfFatal(Throwable t) {
        if (t instanceof VirtualMachineError err && !(t instanceof StackOverflowError)) {
            throw err;
        }
    }

    private static final class Drain<T> implements Flow.Subscription, Runnable {
        private final PoolEngine pool;
        private final Call call;
        private final StreamItems items;
        private final Class<T> itemType;
        private final Flow.Subscriber<? super T> subscriber;
        private final Executor executor;
        private final AtomicLong demand = new AtomicLong();
        private final AtomicInteger runs = new AtomicInteger();
        private volatile boolean cancelled;
        private boolean done; // the drain's own: set once the subscriber was told the end

        Drain(PoolEngine pool, Call call, Class<T> itemType, Flow.Subscriber<? super T> subscriber, Executor executor) {
            this.pool = pool;
            this.call = call;
            this.items = call.items;
            this.itemType = itemType;
            this.subscriber = subscriber;
            this.executor = executor;
        }

        @Override
        public void request(long n) {
            if (n <= 0) {
                cancel();
                error(new IllegalArgumentException("request(" + n + "): a subscriber must request a positive number "
                        + "of items (Reactive Streams rule 3.9)"));
                return;
            }
            demand.accumulateAndGet(n, (a, b) -> a + b < 0 ? Long.MAX_VALUE : a + b);
            schedule();
        }

        @Override
        public void cancel() {
            cancelled = true;
            if (!call.isDone()) {
                pool.dispatcher().abandon(call, new CancellationException("the subscriber of stream '" + call.command
                        + "' cancelled its subscription"));
            }
        }

        /** Counts a run without starting it: the drain waits for {@link #release}. */
        void hold() {
            runs.incrementAndGet();
        }

        /** Starts the run counted by {@link #hold}, with whatever was signalled meanwhile. */
        void release() {
            try {
                executor.execute(this);
            } catch (RejectedExecutionException e) {
                run();
            }
        }

        /** Runs the drain on the executor unless a run is under way (which then goes round once more). */
        void schedule() {
            if (runs.getAndIncrement() == 0) {
                try {
                    executor.execute(this);
                } catch (RejectedExecutionException e) {
                    run();
                }
            }
        }

        @Override
        public void run() {
            int missed = 1;
            do {
                drain();
                missed = runs.addAndGet(-missed);
            } while (missed != 0);
        }

        private void drain() {
            while (!cancelled && !done) {
                if (items.isEmpty()) {
                    if (call.isDone()) {
                        if (items.isEmpty()) {
                            finish();
                            return;
                        }
                        continue; // an item offered just before the end
                    }
                    if (demand.get() > 0) {
                        items.waiting(); // for the idle timeout: the subscriber wants an item, none is here
                    }
                    return;
                }
                if (demand.get() == 0) {
                    return;
                }
                FrameCodec.Frame item = items.poll();
                long[] credit = items.consumed(item);
                if (credit != null) {
                    pool.dispatcher().sendCredit(call, credit[0], credit[1]);
                }
                T value;
                try {
                    value = pool.replies().item(item, call, itemType);
                } catch (RuntimeException e) {
                    cancel();
                    error(e);
                    return;
                }
                demand.decrementAndGet();
                try {
                    subscriber.onNext(value);
                } catch (Throwable e) { // an Error too (a failed assertion): else this drain would never run again
                    LOG.warn("pool '{}': the subscriber of stream '{}' threw from onNext; the stream is cancelled",
                            pool.name(), call.command, e);
                    cancel();
                    done = true;
                    rethrowIfFatal(e);
                    return;
                }
            }
        }

        private void finish() {
            done = true;
            Call.Reply reply;
            try {
                reply = call.join();
                if (reply.kind() != FrameCodec.REPLY_OK) {
                    pool.replies().decode(reply, call, Void.class); // throws the typed failure
                }
            } catch (CompletionException | CancellationException e) {
                subscriber.onError(PoolEngine.asRuntime(PoolEngine.unwrap(e)));
                return;
            } catch (RuntimeException e) {
                subscriber.onError(e);
                return;
            }
            subscriber.onComplete();
        }

        private void error(Throwable e) {
            if (!done) {
                done = true;
                subscriber.onError(e);
            }
        }
    }

    /** The subscription of a subscriber refused at once. */
    private enum Nothing implements Flow.Subscription {
        INSTANCE;

        @Override
        public void request(long n) {}

        @Override
        public void cancel() {}
    }
}
