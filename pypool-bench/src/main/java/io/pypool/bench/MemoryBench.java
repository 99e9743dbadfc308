package io.pypool.bench;

import io.pypool.PythonPool;
import io.pypool.PythonSession;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The JVM heap a pool holds: per idle session (opened, used once, then left alone), and whether
 * it grows with the number of calls made. Heap is read after full collections, so the figures are
 * what stays reachable, not garbage waiting to be collected.
 */
final class MemoryBench {
    private static final int CALLERS = 16;

    private final BenchContext context;

    MemoryBench(BenchContext context) {
        this.context = context;
    }

    /**
     * @param sessions          idle sessions measured
     * @param bytesPerSession   retained heap per idle session
     * @param calls             calls made between the two growth readings
     * @param heapAfterWarmupMb retained heap after the first tenth of the calls
     * @param heapAfterCallsMb  retained heap after all of them
     */
    record Result(int sessions, double bytesPerSession, int calls, double heapAfterWarmupMb, double heapAfterCallsMb) {
        Table table() {
            Table table = new Table("memory: JVM heap retained by one pool (1 worker)", "what", "figure");
            table.row("idle session (" + String.format("%,d", sessions) + " open)", Table.num(bytesPerSession, 0) + " B");
            table.row("heap after " + String.format("%,d", calls / 10) + " calls", Table.num(heapAfterWarmupMb, 1) + " MB");
            table.row("heap after " + String.format("%,d", calls) + " calls", Table.num(heapAfterCallsMb, 1) + " MB");
            return table;
        }
    }

    Result run() throws Exception {
        int sessions = context.sizes().memorySessions();
        int calls = context.sizes().memoryCalls();
        try (PythonPool pool = context.defaultPool("bench-memory", 1).build()) {
            pool.call("echo", null); // the pool's own structures exist before the first reading
            long before = retainedHeap();
            List<PythonSession> open = new ArrayList<>(sessions);
            for (int i = 0; i < sessions; i++) {
                PythonSession s = pool.session("s" + i);
                s.call("echo", null);
                open.add(s);
            }
            long after = retainedHeap();
            // The handles the benchmark itself keeps are not the pool's: subtract them by dropping them.
            open.clear();
            long withoutHandles = retainedHeap();
            double perSession = (double) (withoutHandles - before) / sessions;

            makeCalls(pool, calls / 10);
            double warm = retainedHeap() / 1e6;
            makeCalls(pool, calls - calls / 10);
            double end = retainedHeap() / 1e6;
            if (after < before) {
                throw new IllegalStateException("the heap shrank while sessions were opened: the reading is unreliable");
            }
            return new Result(sessions, perSession, calls, warm, end);
        }
    }

    private static void makeCalls(PythonPool pool, int calls) throws InterruptedException {
        AtomicInteger left = new AtomicInteger(calls);
        CountDownLatch done = new CountDownLatch(CALLERS);
        for (int t = 0; t < CALLERS; t++) {
            Thread thread = new Thread(() -> {
                try {
                    while (left.getAndDecrement() > 0) {
                        pool.call("echo", null);
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } finally {
                    done.countDown();
                }
            });
            thread.start();
        }
        done.await();
    }

    private static long retainedHeap() throws InterruptedException {
        MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
        long last = Long.MAX_VALUE;
        // Collections until the figure settles: one System.gc() may leave reference-queue work behind.
        for (int i = 0; i < 5; i++) {
            System.gc();
            Thread.sleep(50); // lets finalization and cleaners run; a measurement pause, not a synchronisation
            long used = memory.getHeapMemoryUsage().getUsed();
            if (Math.abs(used - last) < 64 * 1024) {
                return used;
            }
            last = used;
        }
        return last;
    }
}
