package io.pypool.bench;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The command line, and how long each section measures. {@code --quick} shortens every round so
 * that the whole run is a smoke test (under a minute); its figures are noisy and not for comparison.
 */
record BenchOptions(
        boolean quick,
        Set<String> sections,
        Path json,
        boolean markdown,
        String python,
        String dspyPython,
        String rayPython,
        Sizes sizes) {

    static final List<String> SECTIONS = List.of("latency", "throughput", "settings", "payload", "conversations",
            "memory", "start", "replacement", "ray");

    static final String USAGE = """
            usage: java -jar pypool-bench.jar [options]
              --quick              short rounds: a smoke test (< 1 min), figures not for comparison
              --only a,b,...       sections to run, of: latency, throughput, settings, payload, conversations,
                                   memory, start, replacement, ray
              --json PATH          where to write the results (default target/bench.json)
              --markdown           also print the tables as markdown (for docs/PERFORMANCE.md)
              --python PATH        the interpreter for the pools and the floor (default: the real python3)
              --dspy-python PATH   an interpreter with DSPy installed: adds start and replacement rows importing real DSPy
              --ray-python PATH    an interpreter with Ray installed: the ray section starts a local Ray head with it
                                   and compares a pool on Ray actors with a local one (skipped without it)
            """;

    /**
     * How much each section measures.
     *
     * @param latencyWarmup   calls of each side before the measured rounds (JIT, caches)
     * @param latencyRounds   interleaved rounds; each runs one block of the floor and one of pypool
     * @param latencyBlock    calls per block
     * @param throughputRounds interleaved rounds per throughput cell (floor and pypool each run once per round)
     * @param throughputWarmup time each side runs in a round before it is counted (threads ramp up)
     * @param throughputWindow time each side is counted in a round
     * @param payloadWindow   time each payload cell is measured (at least {@code payloadMinCalls} calls)
     * @param payloadMinCalls fewest round trips per payload cell, however long they take
     * @param startWorkers    pool sizes for cold start
     * @param replacementReps crashes per replacement figure (each on a fresh pool; the median is kept)
     * @param memorySessions  idle sessions opened to measure the heap each one costs
     * @param memoryCalls     calls made to see whether the heap grows with the number of calls
     */
    record Sizes(int latencyWarmup, int latencyRounds, int latencyBlock,
                 int throughputRounds, Duration throughputWarmup, Duration throughputWindow,
                 Duration payloadWindow, int payloadMinCalls,
                 List<Integer> startWorkers, int replacementReps, int memorySessions, int memoryCalls) {

        static Sizes full() {
            return new Sizes(20_000, 10, 3_000, 4, Duration.ofMillis(500), Duration.ofMillis(1000),
                    Duration.ofMillis(600), 3, List.of(1, 4, 8), 3, 20_000, 1_000_000);
        }

        static Sizes quick() {
            return new Sizes(1_000, 3, 300, 1, Duration.ofMillis(100), Duration.ofMillis(300),
                    Duration.ofMillis(100), 1, List.of(1, 4, 8), 1, 2_000, 50_000);
        }
    }

    static BenchOptions parse(String... args) {
        boolean quick = false;
        boolean markdown = false;
        Set<String> sections = new LinkedHashSet<>(SECTIONS);
        Path json = Path.of("target", "bench.json");
        String python = null;
        String dspyPython = null;
        String rayPython = null;
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            switch (arg) {
                case "--quick" -> quick = true;
                case "--markdown" -> markdown = true;
                case "--only" -> sections = sections(value(args, ++i, arg));
                case "--json" -> json = Path.of(value(args, ++i, arg));
                case "--python" -> python = value(args, ++i, arg);
                case "--dspy-python" -> dspyPython = value(args, ++i, arg);
                case "--ray-python" -> rayPython = value(args, ++i, arg);
                default -> throw new IllegalArgumentException("unknown option '" + arg + "'\n" + USAGE);
            }
        }
        return new BenchOptions(quick, sections, json, markdown, python, dspyPython, rayPython,
                quick ? Sizes.quick() : Sizes.full());
    }

    boolean runs(String section) {
        return sections.contains(section);
    }

    private static Set<String> sections(String list) {
        Set<String> chosen = new LinkedHashSet<>();
        List<String> unknown = new ArrayList<>();
        for (String s : list.split(",")) {
            String name = s.strip();
            if (SECTIONS.contains(name)) {
                chosen.add(name);
            } else if (!name.isEmpty()) {
                unknown.add(name);
            }
        }
        if (!unknown.isEmpty() || chosen.isEmpty()) {
            throw new IllegalArgumentException("--only takes sections of " + SECTIONS + ", got '" + list + "'");
        }
        return chosen;
    }

    private static String value(String[] args, int i, String option) {
        if (i >= args.length || args[i].startsWith("--")) {
            throw new IllegalArgumentException(option + " needs a value\n" + USAGE);
        }
        return args[i];
    }
}
