package io.pypool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import io.pypool.testkit.PypoolExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class SessionTest {

    @RegisterExtension
    final PypoolExtension pools = PypoolExtension.create();

    @Test
    void sessionSeesItsOwnEarlierState() throws Exception {
        PythonPool pool = pools.start(TestPools.builder().workers(3));
        try (PythonSession session = pool.newSession()) {
            session.call("counter.add", Map.of("by", 5));
            session.call("counter.add", Map.of("by", 7));
            JsonNode total = session.call("counter.get", null);
            assertThat(total.get("total").asInt()).isEqualTo(12);
            assertThat(total.get("calls").asInt()).isEqualTo(2);
        }
    }

    @Test
    void twoSessionsNeverSeeEachOthersState() throws Exception {
        PythonPool pool = pools.start(TestPools.builder().workers(1));
        try (PythonSession a = pool.session("alice");
             PythonSession b = pool.session("bob")) {
            a.call("t.remember", Map.of("key", "secret", "value", "a-only"));
            b.call("t.remember", Map.of("key", "other", "value", 1));
            // One worker holds both: isolation comes from the session, not from separate processes.
            assertThat(a.call("t.recall", Map.of("key", "other")).get("value").isNull()).isTrue();
            assertThat(b.call("t.recall", Map.of("key", "secret")).get("value").isNull()).isTrue();
            assertThat(a.call("t.recall", Map.of("key", "secret")).get("value").asText()).isEqualTo("a-only");
        }
    }

    @Test
    void allCallsOfOneSessionLandOnOneWorker() throws Exception {
        PythonPool pool = pools.start(TestPools.builder().workers(4));
        List<PythonSession> sessions = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            sessions.add(pool.session("s" + i));
        }
        Set<Long> pidsUsed = new HashSet<>();
        for (PythonSession s : sessions) {
            List<CompletableFuture<JsonNode>> calls = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                calls.add(s.callAsync("t.remember", Map.of("key", "k" + i, "value", i)));
            }
            Set<Long> pids = new HashSet<>();
            for (CompletableFuture<JsonNode> c : calls) {
                pids.add(c.get().get("pid").asLong());
            }
            assertThat(pids).as("workers that served %s", s.id()).hasSize(1);
            assertThat(s.call("t.recall", Map.of("key", "k0")).get("keys")).hasSize(20);
            pidsUsed.addAll(pids);
        }
        assertThat(pidsUsed).as("sessions spread over the least loaded workers").hasSize(4);
        assertThat(pool.stats().workers()).extracting(PoolStats.Worker::sessions).containsOnly(2);
    }

    @Test
    void closingASessionFreesItsStateInPython() throws Exception {
        PythonPool pool = pools.start(TestPools.builder().workers(1));
        PythonSession session = pool.session("short-lived");
        session.call("counter.add", Map.of("by", 1));
        assertThat(pool.call("stats", null).get("sessions").asInt()).isEqualTo(1);
        session.close();
        await().atMost(Duration.ofSeconds(10)).until(() -> pool.call("stats", null).get("sessions").asInt() == 0);
        assertThatThrownBy(() -> session.call("counter.get", null))
                .isInstanceOf(SessionLostException.class)
                .hasMessageContaining("session 'short-lived'")
                .hasMessageContaining("closed by its owner");
        PythonSession fresh = pool.session("short-lived");
        assertThat(fresh.call("counter.get", null).get("total").asInt()).isZero();
    }

    @Test
    void idleSessionExpiresInTheBackground() throws Exception {
        PythonPool pool = pools.start(TestPools.builder().workers(1).sessionIdleTtl(Duration.ofMillis(200)));
        PythonSession session = pool.session("idle");
        session.call("counter.add", Map.of("by", 3));
        await().atMost(Duration.ofSeconds(10)).until(() -> pool.stats().sessions() == 0);
        await().atMost(Duration.ofSeconds(10)).until(() -> pool.call("stats", null).get("sessions").asInt() == 0);
        assertThatThrownBy(() -> session.call("counter.get", null))
                .isInstanceOf(SessionLostException.class)
                .hasMessageContaining("expired after being idle");
    }

    @Test
    void sessionQuotaEvictsTheLeastRecentlyUsed() throws Exception {
        PythonPool pool = pools.start(TestPools.builder().workers(1).maxSessions(2));
        PythonSession oldest = pool.session("oldest");
        oldest.call("counter.add", Map.of("by", 1));
        PythonSession middle = pool.session("middle");
        middle.call("counter.add", Map.of("by", 1));
        PythonSession newest = pool.session("newest");
        newest.call("counter.add", Map.of("by", 1));
        await().atMost(Duration.ofSeconds(10)).until(() -> pool.stats().sessions() == 2);
        assertThatThrownBy(() -> oldest.call("counter.get", null))
                .isInstanceOf(SessionLostException.class).hasMessageContaining("maxSessions (2)");
        assertThat(newest.call("counter.get", null).get("total").asInt()).isEqualTo(1);
        assertThat(middle.call("counter.get", null).get("total").asInt()).isEqualTo(1);
    }

    @Test
    void sessionHandlerCalledWithoutSessionSaysHowToCallIt() throws Exception {
        PythonPool pool = pools.start(TestPools.builder().workers(1));
        assertThatThrownBy(() -> pool.call("counter.add", Map.of("by", 1)))
                .isInstanceOf(BadArgumentsException.class)
                .hasMessageContaining("through a session");
    }
}
