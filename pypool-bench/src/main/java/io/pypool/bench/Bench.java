package io.pypool.bench;

import java.io.IOException;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * pypool against the floor, in one run: latency, throughput, payloads, cold start and replacement
 * after a crash, printed side by side and written as JSON. The floor is a bare Python echo process
 * on the same interpreter, same pipes and same framing (see {@link Floor}); pools use default
 * settings, because defaults are what most users run.
 *
 * <p>Run: {@code ./mvnw -q -B -DskipTests package && java -jar pypool-bench/target/pypool-bench.jar}
 * ({@code --help} for the options). docs/PERFORMANCE.md says what each figure means.
 */
public final class Bench {
    private Bench() {}

    public static void main(String[] args) {
        System.exit(run(System.out, args));
    }

    /** Runs the benchmark; 0 when every chosen section ran, 2 for a bad command line, 1 on a failure. */
    static int run(PrintStream out, String... args) {
        BenchOptions options;
        try {
            if (List.of(args).contains("--help")) {
                out.print(BenchOptions.USAGE);
                return 0;
            }
            options = BenchOptions.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println(e.getMessage());
            return 2;
        }
        try {
            run(out, options);
            return 0;
        } catch (Exception e) {
            e.printStackTrace();
            return 1;
        }
    }

    static void run(PrintStream out, BenchOptions options) throws Exception {
        long started = System.nanoTime();
        String[] python = python(options.python());
        BenchContext context = BenchContext.create(python[0], options.sizes());
        Report report = new Report(out);
        Map<String, Object> machine = machine(python, options);
        report.put("machine", machine);
        out.printf(Locale.ROOT, "python %s (%s), java %s, %d cores, load average %.2f%s%n%n", python[1], python[0],
                machine.get("java"), machine.get("cores"), machine.get("loadAverageAtStart"),
                options.quick() ? "; --quick: short rounds, figures not for comparison" : "");

        if (options.runs("latency")) {
            LatencyBench.Result r = new LatencyBench(context).run();
            report.section("latency", r, r.table());
        }
        if (options.runs("throughput")) {
            List<ThroughputBench.Row> rows = new ThroughputBench(context).run();
            report.section("throughput", rows, ThroughputBench.table(rows));
        }
        if (options.runs("settings")) {
            List<SettingsBench.Row> rows = new SettingsBench(context).run();
            report.section("settings", rows, SettingsBench.table(rows));
        }
        if (options.runs("payload")) {
            List<PayloadBench.Row> rows = new PayloadBench(context).run();
            report.section("payload", rows, PayloadBench.table(rows));
        }
        if (options.runs("conversations")) {
            List<ConversationBench.Row> rows = new ConversationBench(context).run();
            report.section("conversations", rows, ConversationBench.table(rows));
        }
        if (options.runs("memory")) {
            MemoryBench.Result r = new MemoryBench(context).run();
            report.section("memory", r, r.table());
        }
        List<Handlers> handlers = Handlers.forStart(context, options.dspyPython());
        if (options.runs("start")) {
            List<StartBench.Row> rows = new StartBench(context, handlers).run();
            report.section("coldStart", rows, StartBench.table(rows));
        }
        if (options.runs("replacement")) {
            List<ReplacementBench.Row> rows = new ReplacementBench(context, handlers).run();
            report.section("replacement", rows, ReplacementBench.table(rows));
        }
        if (options.runs("ray") && options.rayPython() != null) {
            List<RayBench.Row> rows = new RayBench(context, options.rayPython()).run();
            report.section("ray", rows, RayBench.table(rows));
        } else if (options.runs("ray")) {
            report.note("(no --ray-python: no Ray rows)");
        }
        if (options.runs("start") && options.dspyPython() == null) {
            report.note("(no --dspy-python: no real-DSPy rows)");
        }

        machine.put("loadAverageAtEnd", loadAverage());
        machine.put("seconds", Math.round((System.nanoTime() - started) / 1e8) / 10.0);
        report.writeJson(options.json());
        out.println("JSON: " + options.json().toAbsolutePath());
        if (options.markdown()) {
            out.println();
            out.print(report.markdown());
        }
    }

    private static Map<String, Object> machine(String[] python, BenchOptions options) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("python", python[0]);
        m.put("pythonVersion", python[1]);
        m.put("java", System.getProperty("java.version"));
        m.put("os", System.getProperty("os.name") + " " + System.getProperty("os.arch"));
        m.put("cores", Runtime.getRuntime().availableProcessors());
        // Other processes' load makes every figure slower, the floor's included: the ratios hold up better.
        m.put("loadAverageAtStart", loadAverage());
        m.put("quick", options.quick());
        m.put("sections", options.sections());
        return m;
    }

    private static double loadAverage() {
        return Math.round(ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage() * 100) / 100.0;
    }

    /**
     * The interpreter's real path and version. {@code python3} on the PATH may be a version-manager
     * shim costing ~100 ms per start; the floor and the pools must run the real binary, the same one.
     */
    private static String[] python(String given) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(given == null ? "python3" : given, "-c",
                "import sys; print(sys.executable); print(sys.version.split()[0])")
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String[] lines = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip().split("\n");
        if (p.waitFor() != 0 || lines.length < 2) {
            throw new IOException("cannot run " + (given == null ? "python3" : given));
        }
        return new String[] {lines[0].strip(), lines[1].strip()};
    }
}
