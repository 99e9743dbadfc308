package io.pypool;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** A backend's bytes read as frames: chunking means nothing, frames come before the death, a cut frame is the death's. */
class LinkTransportTest {
    private final List<FrameCodec.Frame> frames = new ArrayList<>();
    private final CompletableFuture<WorkerTransport.Death> death = new CompletableFuture<>();
    private final ConcurrentLinkedQueue<String> kills = new ConcurrentLinkedQueue<>();

    private LinkTransport transport() {
        LinkTransport t = new LinkTransport("p", "w1", new WorkerTransport.Events() {
            @Override
            public void onFrame(FrameCodec.Frame frame) {
                synchronized (frames) {
                    frames.add(frame);
                }
            }

            @Override
            public void onDeath(WorkerTransport.Death d) {
                death.complete(d);
            }
        }, Executors.newSingleThreadExecutor(), 1 << 20);
        t.attach(new WorkerLink() {
            @Override public void start() { }
            @Override public void write(byte[] bytes) { }
            @Override public void closeInput() { }
            @Override public void kill(String why) {
                kills.add(why);
            }
            @Override public long pid() {
                return 42;
            }
            @Override public String where() {
                return "nowhere";
            }
        }, org.slf4j.event.Level.INFO);
        t.start();
        return t;
    }

    private static byte[] reply(long id, Object value) throws Exception {
        return FrameCodec.encodeValue(new ObjectMapper(), FrameCodec.REPLY_OK, id, value, "test", 1 << 20);
    }

    @Test
    void framesSplitAnywhereArriveWholeAndInOrderBeforeTheDeath() throws Exception {
        LinkTransport t = transport();
        byte[] a = reply(1, "one");
        byte[] b = reply(2, List.of(1, 2, 3));
        byte[] both = new byte[a.length + b.length];
        System.arraycopy(a, 0, both, 0, a.length);
        System.arraycopy(b, 0, both, a.length, b.length);
        for (int i = 0; i < both.length; i += 3) { // three bytes at a time: frames cut in every place
            t.output(Arrays.copyOfRange(both, i, Math.min(both.length, i + 3)));
        }
        t.ended(0, null);
        WorkerTransport.Death d = death.get(5, TimeUnit.SECONDS);
        assertThat(frames).extracting(FrameCodec.Frame::requestId).containsExactly(1L, 2L);
        assertThat(d.exitCode()).isZero();
        assertThat(d.protocolError()).isNull();
        assertThat(t.exited()).isTrue();
    }

    @Test
    void outputCutMidFrameByTheEndIsTheEndNotAProtocolError() throws Exception {
        LinkTransport t = transport();
        byte[] a = reply(1, "x".repeat(1000));
        t.output(Arrays.copyOf(a, a.length / 2));
        t.ended(null, "its Ray actor died: node lost");
        WorkerTransport.Death d = death.get(5, TimeUnit.SECONDS);
        assertThat(d.protocolError()).isNull();
        assertThat(d.describe()).isEqualTo("was lost: its Ray actor died: node lost");
        assertThat(kills).isEmpty();
    }

    @Test
    void garbageFromALiveWorkerBreaksTheProtocolAndEndsIt() throws Exception {
        LinkTransport t = transport();
        t.output(new byte[] {(byte) 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
        org.awaitility.Awaitility.await().until(() -> !kills.isEmpty());
        t.ended(null, "its Ray actor died");
        WorkerTransport.Death d = death.get(5, TimeUnit.SECONDS);
        assertThat(d.protocolError()).startsWith("sent a malformed frame");
    }
}
