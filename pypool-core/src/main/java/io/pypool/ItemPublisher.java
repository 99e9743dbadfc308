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
        call.items.onSignal(drain::schedule);
        subscriber.onSubscribe(drain);
        drain.schedule();
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
                } catch (RuntimeException e) {
                    LOG.warn("pool '{}': the subscriber of stream '{}' threw from onNext; the stream is cancelled",
                            pool.name(), call.command, e);
                    cancel();
                    done = true;
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
