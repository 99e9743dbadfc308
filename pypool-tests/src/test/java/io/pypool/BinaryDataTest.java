package io.pypool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pypool.testkit.PypoolExtension;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** byte[] and ByteBuffer in, bytes out: raw attachments beside the JSON, never base64. */
class BinaryDataTest {

    @RegisterExtension
    final PypoolExtension pools = PypoolExtension.create();

    record Blob(String name, byte[] data) {}

    record BufferBlob(String name, ByteBuffer data) {}

    record Made(byte[] data, List<Object> list, int size) {}

    static Map<String, Object> bytesInfo(byte[] data) throws Exception {
        return Map.of("type", "bytes", "len", data.length,
                "sha256", HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data)));
    }

    static byte[] random(int n) {
        byte[] b = new byte[n];
        ThreadLocalRandom.current().nextBytes(b);
        return b;
    }

    /** What bin.make sends: i % 256 for each byte. */
    static byte[] pattern(int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) (i % 256);
        }
        return b;
    }

    @Test
    void bytesArgumentsArriveAsPythonBytesAtTheTopAndNestedInMapsListsAndRecords() throws Exception {
        PythonPool pool = pools.start(TestPools.builder().workers(1));
        byte[] a = random(1000);
        byte[] b = random(17);
        byte[] c = random(3);
        Map<String, Object> args = Map.of("value", Map.of(
                "top", a,
                "list", List.of(b, "text", 5),
                "record", new Blob("n", c),
                "buffer", ByteBuffer.wrap(new byte[] {9, 1, 2, 3}, 1, 3)));
        JsonNode seen = pool.call("bin.describe", args, JsonNode.class);
        ObjectMapper json = new ObjectMapper();
        assertThat(seen.get("top")).isEqualTo(json.valueToTree(bytesInfo(a)));
        assertThat(seen.get("list").get(0)).isEqualTo(json.valueToTree(bytesInfo(b)));
        assertThat(seen.get("list").get(1).asText()).isEqualTo("str");
        assertThat(seen.get("list").get(2).asText()).isEqualTo("int");
        assertThat(seen.get("record").get("name").asText()).isEqualTo("str");
        assertThat(seen.get("record").get("data")).isEqualTo(json.valueToTree(bytesInfo(c)));
        assertThat(seen.get("buffer")).as("a ByteBuffer's remaining bytes")
                .isEqualTo(json.valueToTree(bytesInfo(new byte[] {1, 2, 3})));
    }

    @Test
    void rawBytesAsTheWholeArgumentAreTheOnePositionalArgument() throws Exception {
        PythonPool pool = pools.start(TestPools.builder().workers(1));
        byte[] a = random(64);
        JsonNode seen = pool.call("bin.whole", a, JsonNode.class);
        assertThat(seen).isEqualTo(new ObjectMapper().valueToTree(List.of(bytesInfo(a))));
    }

    @Test
    void emptyBytesAndAll256ByteValuesArriveIntact() throws Exception {
        PythonPool pool = pools.start(TestPools.builder().workers(1));
        byte[] all = pattern(256);
        assertThat(pool.call("echo", Map.of("value", new byte[0]), byte[].class)).isEmpty();
        assertThat(pool.call("echo", Map.of("value", all), byte[].class)).isEqualTo(all);
        JsonNode seen = pool.call("bin.describe", Map.of("value", List.of(new byte[0], all)), JsonNode.class);
        assertThat(seen.get(0).get("len").asInt()).isZero();
        assertThat(seen.get(1)).isEqualTo(new ObjectMapper().valueToTree(bytesInfo(all)));
    }

    @Test
    @SuppressWarnings("unchecked")
    void bytesResultsArriveAsByteArraysForEveryTargetType() throws Exception {
        PythonPool pool = pools.start(TestPools.builder().workers(1));
        byte[] expected = pattern(1000);
        assertThat(pool.call("bin.make", Map.of("size", 1000), byte[].class)).isEqualTo(expected);
        assertThat(pool.call("bin.make", Map.of("size", 1000), Object.class)).isEqualTo(expected);
        assertThat(pool.call("bin.make", Map.of("size", 1000), ByteBuffer.class)).isEqualTo(ByteBuffer.wrap(expected));
        JsonNode node = pool.call("bin.make", Map.of("size", 1000), JsonNode.class);
        assertThat(node.isBinary()).isTrue();
        assertThat(node.binaryValue()).isEqualTo(expected);

        Map<String, Object> map = pool.call("bin.make", Map.of("size", 1000, "nested", true), Map.class);
        assertThat(map.get("data")).isEqualTo(expected);
        assertThat((List<Object>) map.get("list")).containsExactly(new byte[] {0, 1, 2}, "text", new byte[] {0, 1});
        assertThat(map.get("size")).isEqualTo(1000);

        Made made = pool.call("bin.make", Map.of("size", 1000, "nested", true), Made.class);
        assertThat(made.data()).isEqualTo(expected);
        assertThat(made.list().get(0)).isEqualTo(new byte[] {0, 1, 2});

        JsonNode tree = pool.call("bin.make", Map.of("size", 1000, "nested", true), JsonNode.class);
        assertThat(tree.get("data").binaryValue()).isEqualTo(expected);

        Blob blob = pool.call("echo", Map.of("value", new Blob("b", expected)), Blob.class);
        assertThat(blob.data()).isEqualTo(expected);
        BufferBlob buffer = pool.call("echo", Map.of("value", new Blob("b", expected)), BufferBlob.class);
        assertThat(buffer.data()).isEqualTo(ByteBuffer.wrap(expected));
    }

    @Test
    void manyAttachmentsInOneCallKeepTheirPlaces() throws Exception {
        PythonPool pool = pools.start(TestPools.builder().workers(1));
        List<byte[]> parts = new ArrayList<>();
        for (int i = 0; i < 500; i++) {
            parts.add(random(i % 7 == 0 ? 0 : 1 + i));
        }
        List<?> back = pool.call("echo", Map.of("value", parts), List.class);
        assertThat(back).hasSize(500);
        for (int i = 0; i < 500; i++) {
            assertThat((byte[]) back.get(i)).as("part %d", i).isEqualTo(parts.get(i));
        }
    }

    @Test
    void tenMegabytesRoundTripIntact() throws Exception {
        PythonPool pool = pools.start(TestPools.builder().workers(1));
        byte[] big = random(10 * 1024 * 1024);
        assertThat(pool.call("echo", Map.of("value", big), byte[].class)).isEqualTo(big);
        assertThat(pool.call("bin.describe", Map.of("value", big), JsonNode.class))
                .isEqualTo(new ObjectMapper().valueToTree(bytesInfo(big)));
    }

    @Test
    void argumentsOverMaxFrameBytesFailTypedAndTheWorkerServesTheNextCall() throws Exception {
        PythonPool pool = pools.start(TestPools.builder().workers(1).maxFrameBytes(64 * 1024));
        long pid = pool.call("t.pid", null, Long.class);
        ArgumentsTooLargeException e = catchThrowableOfType(ArgumentsTooLargeException.class,
                () -> pool.call("echo", Map.of("value", new byte[100_000])));
        assertThat(e.limit()).isEqualTo(64 * 1024);
        assertThat(e.size()).isGreaterThan(100_000);
        assertThat(e).hasMessageContaining("1 binary attachment of 100000 bytes")
                .hasMessageContaining("over maxFrameBytes (65536)");
        byte[] fits = random(60_000);
        assertThat(pool.call("echo", Map.of("value", fits), byte[].class)).isEqualTo(fits);
        assertThat(pool.call("t.pid", null, Long.class)).isEqualTo(pid);
    }

    @Test
    void aHugeBytesResultBecomesAnErrorReplyAndTheWorkerLives() throws Exception {
        PythonPool pool = pools.start(TestPools.builder().workers(1).maxFrameBytes(1 << 20));
        long pid = pool.call("t.pid", null, Long.class);
        PythonException e = catchThrowableOfType(PythonException.class,
                () -> pool.call("bin.huge", Map.of("size", 50 << 20)));
        assertThat(e.pythonType()).isEqualTo("ResultTooLarge");
        assertThat(e).hasMessageContaining("1 binary attachments").hasMessageContaining("over the frame limit of 1048576");
        assertThat(pool.call("bin.huge", Map.of("size", 1000), byte[].class)).hasSize(1000);
        assertThat(pool.call("t.pid", null, Long.class)).isEqualTo(pid);
    }

    @Test
    void concurrentCallersMixingBytesAndJsonOnOneWorkerGetTheirOwnReplies() throws Exception {
        PythonPool pool = pools.start(TestPools.builder().workers(1).maxInFlightPerWorker(8).handlerThreads(4));
        List<CompletableFuture<Void>> callers = new ArrayList<>();
        for (int t = 0; t < 8; t++) {
            int caller = t;
            callers.add(CompletableFuture.runAsync(() -> {
                try {
                    for (int i = 0; i < 40; i++) {
                        if ((caller + i) % 2 == 0) {
                            byte[] mine = random(1 + ThreadLocalRandom.current().nextInt(200_000));
                            JsonNode back = pool.call("echo", Map.of("value", Map.of("b", mine, "n", i)), JsonNode.class);
                            assertThat(((com.fasterxml.jackson.databind.node.BinaryNode) back.get("b")).binaryValue()).isEqualTo(mine);
                            assertThat(back.get("n").asInt()).isEqualTo(i);
                        } else {
                            String nonce = caller + "-" + i;
                            assertThat(pool.call("echo", Map.of("value", nonce), String.class)).isEqualTo(nonce);
                        }
                    }
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            }));
        }
        CompletableFuture.allOf(callers.toArray(CompletableFuture[]::new)).get();
    }

    @Test
    void theUsersObjectMapperIsNotChangedAndStillWritesBase64() throws Exception {
        ObjectMapper mine = new ObjectMapper();
        String before = mine.writeValueAsString(Map.of("b", new byte[] {1, 2, 3}));
        PythonPool pool = pools.start(TestPools.builder().workers(1).objectMapper(mine));
        assertThat(pool.call("echo", Map.of("value", new byte[] {1, 2, 3}), byte[].class)).containsExactly(1, 2, 3);
        assertThat(mine.writeValueAsString(Map.of("b", new byte[] {1, 2, 3}))).isEqualTo(before).isEqualTo("{\"b\":\"AQID\"}");
        assertThat(mine.getRegisteredModuleIds()).isEmpty();
    }

    record Digest(String algorithm, byte[] digest, int size) {}

    @Test
    void theReadmeExampleGetsRawDigestBytes() throws Exception {
        PythonPool pool = pools.start(TestPools.builder().workers(1));
        byte[] photo = random(5000);
        Digest d = pool.call("blob.digest", Map.of("data", photo), Digest.class);
        assertThat(d.digest()).isEqualTo(MessageDigest.getInstance("SHA-256").digest(photo));
        assertThat(d.size()).isEqualTo(5000);
    }
}
