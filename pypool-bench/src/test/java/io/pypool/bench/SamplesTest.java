package io.pypool.bench;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class SamplesTest {

    @Test
    void percentilesAreNearestRankOverEverySample() {
        Samples samples = new Samples(1);
        for (long v = 100; v >= 1; v--) {
            samples.add(v * 1000);
        }
        assertThat(samples.count()).isEqualTo(100);
        assertThat(samples.percentile(50)).isEqualTo(50_000);
        assertThat(samples.percentile(99)).isEqualTo(99_000);
        assertThat(samples.percentile(100)).isEqualTo(100_000);
        assertThat(samples.summary().p50Us()).isEqualTo(50.0);
        assertThat(samples.summary().meanUs()).isEqualTo(50.5);
    }
}
