package io.pypool;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class CommandTimesTest {
    private static final long MS = 1_000_000;

    @Test
    void aCommandIsSlowOnceItsRecentCallsTookLonger() {
        CommandTimes times = new CommandTimes();
        assertThat(times.slowerThan("predict", MS)).as("not seen yet").isFalse();
        for (int i = 0; i < 20; i++) {
            times.record("predict", 5 * MS);
            times.record("echo", MS / 100);
        }
        assertThat(times.slowerThan("predict", MS)).isTrue();
        assertThat(times.slowerThan("echo", MS)).isFalse();
    }

    @Test
    void aCommandThatTurnsFastIsNoLongerSlow() {
        CommandTimes times = new CommandTimes();
        for (int i = 0; i < 20; i++) {
            times.record("warmup", 5 * MS);
        }
        assertThat(times.slowerThan("warmup", MS)).isTrue();
        for (int i = 0; i < 100; i++) {
            times.record("warmup", MS / 100);
        }
        assertThat(times.slowerThan("warmup", MS)).isFalse();
    }

    @Test
    void manyCommandNamesDoNotGrowItWithoutBound() {
        CommandTimes times = new CommandTimes();
        for (int i = 0; i < 10_000; i++) {
            times.record("cmd" + i, 5 * MS);
        }
        assertThat(times.slowerThan("cmd0", MS)).isTrue();
        assertThat(times.slowerThan("cmd9999", MS)).as("past the bound: unknown").isFalse();
    }
}
