package io.pypool.bench;

import java.util.Arrays;

/**
 * Per-call times in nanoseconds, kept whole so that percentiles are exact (nearest rank over the
 * sorted values) rather than estimated from averages of rounds. Not thread-safe: one recorder.
 */
final class Samples {
    private long[] nanos;
    private int count;

    Samples(int expected) {
        nanos = new long[Math.max(16, expected)];
    }

    void add(long value) {
        if (count == nanos.length) {
            nanos = Arrays.copyOf(nanos, count * 2);
        }
        nanos[count++] = value;
    }

    void addAll(Samples other) {
        for (int i = 0; i < other.count; i++) {
            add(other.nanos[i]);
        }
    }

    int count() {
        return count;
    }

    /** The value below which {@code p} percent of the samples lie (nearest rank), in nanoseconds. */
    long percentile(double p) {
        if (count == 0) {
            throw new IllegalStateException("no samples");
        }
        long[] sorted = Arrays.copyOf(nanos, count);
        Arrays.sort(sorted);
        int rank = (int) Math.ceil(p / 100.0 * count);
        return sorted[Math.max(0, Math.min(count - 1, rank - 1))];
    }

    double meanNanos() {
        long sum = 0;
        for (int i = 0; i < count; i++) {
            sum += nanos[i];
        }
        return count == 0 ? 0 : (double) sum / count;
    }

    /** p50, p99 and mean in microseconds: the shape the report prints. */
    Summary summary() {
        return new Summary(percentile(50) / 1e3, percentile(99) / 1e3, meanNanos() / 1e3, count);
    }

    record Summary(double p50Us, double p99Us, double meanUs, long calls) {}
}
