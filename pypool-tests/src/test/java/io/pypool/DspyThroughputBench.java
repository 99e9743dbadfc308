package io.pypool;

import io.pypool.dspy.Dspy;
import io.pypool.dspy.DspyProgram;
import io.pypool.dspy.LmConfig;
import io.pypool.dspy.ProgramSpec;
import io.pypool.testkit.PypoolExtension;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * DSPy throughput, run on demand (docs/DSPY.md gives the command): a pool-wide ChainOfThought
 * program whose LM sleeps 300 ms per request (no network, no cache, distinct inputs), called by
 * 256 Java threads; and the per-execute overhead with DSPy's DummyLM from one caller.
 */
@EnabledIfSystemProperty(named = "pypool.dspyBench", matches = "true")
class DspyThroughputBench {
    @RegisterExtension
    final PypoolExtension pools = PypoolExtension.create();

    private static final int WORKERS = Integer.getInteger("pypool.dspyBench.workers", 4);
    private static final int IN_FLIGHT = Integer.getInteger("pypool.dspyBench.inFlight", 16);
    private static final int CALLERS = Integer.getInteger("pypool.dspyBench.callers", 256);
    private static final long SECONDS = Long.getLong("pypool.dspyBench.seconds", 15);

    @Test
    void ioBoundChainOfThoughtFrom256Callers() throws Exception {
        PythonPool pool = pools.start(DspyPools.builder(WORKERS).maxInFlightPerWorker(IN_FLIGHT).maxQueuedCalls(4096));
        Dspy dspy = Dspy.on(pool);
        dspy.configureLm(LmConfig.custom("py:dspy_app.lms:SlowLM").option("delay", 0.3));
        DspyProgram cot = dspy.definePoolProgram("cot", ProgramSpec.of("question -> answer", ProgramSpec.ModuleType.CHAIN_OF_THOUGHT));
        AtomicLong done = new AtomicLong();
        AtomicLong failed = new AtomicLong();
        long[] window = new long[2];
        CountDownLatch stop = new CountDownLatch(1);
        List<Thread> callers = new ArrayList<>();
        for (int c = 0; c < CALLERS; c++) {
            int caller = c;
            Thread t = new Thread(() -> {
                for (long i = 0; stop.getCount() > 0; i++) {
                    try {
                        cot.execute(Map.of("question", "caller " + caller + " question " + i));
                        done.incrementAndGet();
                    } catch (Exception e) {
                        failed.incrementAndGet();
                    }
                }
            });
            t.setDaemon(true);
            t.start();
            callers.add(t);
        }
        Thread.sleep(3000); // warm-up: every worker and caller running
        window[0] = done.get();
        long t0 = System.nanoTime();
        Thread.sleep(SECONDS * 1000);
        window[1] = done.get();
        double elapsed = (System.nanoTime() - t0) / 1e9;
        stop.countDown();
        for (Thread t : callers) {
            t.join();
        }
        double rate = (window[1] - window[0]) / elapsed;
        System.out.printf("DSPY-BENCH io-bound: workers=%d inFlight=%d callers=%d lmDelay=300ms -> %.1f executions/s "
                        + "(ideal %.1f/s), failures=%d, over %.1f s%n", WORKERS, IN_FLIGHT, CALLERS, rate,
                WORKERS * IN_FLIGHT / 0.3, failed.get(), elapsed);
    }

    @Test
    void perExecuteOverheadWithDummyLm() throws Exception {
        PythonPool pool = pools.start(DspyPools.builder(1));
        Dspy dspy = Dspy.on(pool);
        dspy.configureLm(LmConfig.dummyByPrompt(Map.of("q-", Map.of("reasoning", "r", "answer", "a"))));
        for (String module : List.of("PREDICT", "CHAIN_OF_THOUGHT")) {
            DspyProgram p = dspy.definePoolProgram(module, ProgramSpec.of("question -> answer", ProgramSpec.ModuleType.valueOf(module)));
            for (int i = 0; i < 200; i++) {
                p.execute(Map.of("question", "q-warm" + i));
            }
            int n = 1000;
            long t0 = System.nanoTime();
            for (int i = 0; i < n; i++) {
                p.execute(Map.of("question", "q-" + i));
            }
            double micros = (System.nanoTime() - t0) / 1e3 / n;
            System.out.printf("DSPY-BENCH overhead: %s with DummyLM, one caller: %.0f us per execute (%.0f/s)%n",
                    module, micros, 1e6 / micros);
        }
    }
}
