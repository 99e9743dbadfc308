package io.pypool;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class CallerSpinTest {
    private static final long BUDGET = 50_000;

    private static Call callStartedAgo(String command, long agoNanos) {
        return new Call(command, null, new byte[FrameCodec.HEADER_BYTES], System.nanoTime() - agoNanos, 1_000_000_000L,
                false, Call.Kind.USER);
    }

    @Test
    void commandsThatAnswerSlowerThanTheBudgetAreNotWatchedFor() {
        CallerSpin spin = new CallerSpin(BUDGET);
        assertThat(spin.slowCommand("predict")).as("not seen yet: tried").isFalse();
        for (int i = 0; i < 20; i++) {
            spin.record(callStartedAgo("predict", 5_000_000), System.nanoTime());
            spin.record(callStartedAgo("echo", 10_000), System.nanoTime());
        }
        assertThat(spin.slowCommand("predict")).isTrue();
        assertThat(spin.slowCommand("echo")).isFalse();
    }

    @Test
    void aCommandThatTurnsFastIsWatchedForAgain() {
        CallerSpin spin = new CallerSpin(BUDGET);
        for (int i = 0; i < 20; i++) {
            spin.record(callStartedAgo("warmup", 5_000_000), System.nanoTime());
        }
        assertThat(spin.slowCommand("warmup")).isTrue();
        for (int i = 0; i < 100; i++) {
            spin.record(callStartedAgo("warmup", 10_000), System.nanoTime());
        }
        assertThat(spin.slowCommand("warmup")).isFalse();
    }

    @Test
    void withNoBudgetNothingIsRecorded() {
        CallerSpin spin = new CallerSpin(0);
        spin.record(callStartedAgo("predict", 5_000_000), System.nanoTime());
        assertThat(spin.slowCommand("predict")).isFalse();
    }
}
