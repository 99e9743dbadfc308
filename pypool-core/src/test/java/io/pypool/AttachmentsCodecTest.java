package io.pypool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The frame layout with attachments, on the JVM side: encoding requests, reading replies. */
class AttachmentsCodecTest {
    private final ObjectMapper plain = new ObjectMapper();
    private final ObjectMapper pool = new ObjectMapper().registerModule(Attachments.module());

    private static int u32(byte[] b, int at) {
        return ByteBuffer.wrap(b, at, 4).getInt();
    }

    @Test
    void requestsWithoutBinaryValuesAreByteForByteWhatTheyWere() throws Exception {
        Object args = Map.of("a", List.of(1, "x", Map.of("b", true)));
        assertThat(FrameCodec.encodeRequest(pool, "cmd", args, "s1"))
                .isEqualTo(FrameCodec.encodeRequest(plain, "cmd", args, "s1"));
    }

    @Test
    void binaryValuesBecomeMarkersAndAttachmentsAfterTheJson() throws Exception {
        byte[] data = {0, (byte) 0xFF, 7};
        ByteBuffer buffer = ByteBuffer.wrap(new byte[] {9, 8, 7, 6}, 1, 2);
        byte[] frame = FrameCodec.encodeRequest(pool, "cmd", Map.of("d", data), null);
        assertThat(frame[5]).isEqualTo(FrameCodec.FLAG_ATTACHMENTS);
        int jsonLength = u32(frame, 16);
        String json = new String(frame, 20, jsonLength, StandardCharsets.UTF_8);
        assertThat(json).endsWith("\"args\":{\"d\":{\"__pypool_bytes__\":0}}}");
        assertThat(u32(frame, 20 + jsonLength)).isEqualTo(3);
        assertThat(Arrays.copyOfRange(frame, 24 + jsonLength, frame.length)).isEqualTo(data);

        byte[] two = FrameCodec.encodeRequest(pool, "cmd", List.of(buffer, data), null);
        int j = u32(two, 16);
        assertThat(u32(two, 20 + j)).isEqualTo(2);
        assertThat(Arrays.copyOfRange(two, 24 + j, 26 + j)).containsExactly(8, 7);
        assertThat(buffer.position()).as("the caller's buffer is not moved").isEqualTo(1);
        assertThat(u32(two, 26 + j)).isEqualTo(3);
    }

    @Test
    void theDeadlineIsStampedInsideTheJsonOfEitherLayout() throws Exception {
        for (Object args : List.of(Map.of("x", 1), Map.of("x", new byte[5]))) {
            byte[] frame = FrameCodec.encodeRequest(pool, "cmd", args, null);
            FrameCodec.stampHeader(frame, FrameCodec.REQUEST, 42);
            FrameCodec.stampDeadline(frame, 1234);
            int start = frame[5] == 0 ? 16 : 20;
            String json = new String(frame, start, frame[5] == 0 ? frame.length - 16 : u32(frame, 16), StandardCharsets.UTF_8);
            assertThat(plain.readTree(json).get("deadline_ms").asLong()).isEqualTo(1234);
            assertThat(u32(frame, 0)).isEqualTo(frame.length - 4);
        }
    }

    @Test
    void argumentsOverTheLimitFailBeforeAnythingIsCopied() {
        assertThatThrownBy(() -> FrameCodec.encodeRequest(pool, "cmd", Map.of("d", new byte[2000]), null, 1000))
                .isInstanceOf(ArgumentsTooLargeException.class)
                .hasMessageContaining("1 binary attachment of 2000 bytes")
                .hasMessageContaining("over maxFrameBytes (1000)");
    }

    @Test
    void elsewhereThePoolMapperWritesBase64AsJacksonDoes() throws Exception {
        assertThat(pool.writeValueAsString(Map.of("d", new byte[] {1, 2, 3}))).isEqualTo("{\"d\":\"AQID\"}");
        NdArray a = NdArray.of(new double[] {1, 2});
        assertThat(pool.readValue(pool.writeValueAsString(a), NdArray.class)).isEqualTo(a);
    }

    private static byte[] replyFrame(byte flags, byte[] body) {
        ByteBuffer b = ByteBuffer.allocate(16 + body.length);
        b.putInt(12 + body.length).put(FrameCodec.REPLY_OK).put(flags).putShort((short) 0).putLong(5).put(body);
        return b.array();
    }

    private static byte[] attachedBody(String json, byte[]... parts) {
        byte[] j = json.getBytes(StandardCharsets.UTF_8);
        int size = 4 + j.length + Arrays.stream(parts).mapToInt(p -> 4 + p.length).sum();
        ByteBuffer b = ByteBuffer.allocate(size).putInt(j.length).put(j);
        for (byte[] p : parts) {
            b.putInt(p.length).put(p);
        }
        return b.array();
    }

    private static FrameCodec.Frame read(byte[] frame) throws Exception {
        return FrameCodec.read(new DataInputStream(new ByteArrayInputStream(frame)), 1 << 20);
    }

    @Test
    void repliesWithAttachmentsAreReadIntoArraysOfTheirOwnAndResolvedInPlace() throws Exception {
        String json = "{\"a\":{\"__pypool_bytes__\":1},\"l\":[{\"__pypool_bytes__\":0},{\"__pypool_bytes__\":0,\"x\":1}],"
                + "\"n\":{\"__pypool_ndarray__\":2,\"dtype\":\"int16\",\"shape\":[2]}}";
        FrameCodec.Frame f = read(replyFrame((byte) 1, attachedBody(json, new byte[] {1}, new byte[0], new byte[] {1, 0, 2, 0})));
        assertThat(f.attachments()).hasNumberOfRows(3);
        JsonNode tree = Attachments.resolve(plain.readTree(f.body()), f.attachments());
        assertThat(tree.get("a").binaryValue()).isEmpty();
        assertThat(tree.get("l").get(0).binaryValue()).containsExactly(1);
        assertThat(tree.get("l").get(1).get("x").asInt()).as("not a marker: another key").isEqualTo(1);
        Map<?, ?> map = pool.treeToValue(tree, Map.class);
        assertThat(((NdArray) map.get("n")).asInts()).containsExactly(1, 2);

        FrameCodec.Frame bare = read(replyFrame((byte) 0, "{\"__pypool_bytes__\":0}".getBytes(StandardCharsets.UTF_8)));
        assertThat(bare.attachments()).isNull();
    }

    @Test
    void malformedAttachedRepliesAndFlagsAreProtocolErrors() {
        assertThatThrownBy(() -> read(replyFrame((byte) 1, new byte[] {0, 0, 0, 9, '{', '}'})))
                .isInstanceOf(FrameCodec.MalformedFrameException.class).hasMessageContaining("runs past the end");
        assertThatThrownBy(() -> read(replyFrame((byte) 1, new byte[] {0, 0, 0, 2, '{', '}', 0, 0})))
                .isInstanceOf(FrameCodec.MalformedFrameException.class).hasMessageContaining("ends inside the length");
        assertThatThrownBy(() -> read(replyFrame((byte) 2, "{}".getBytes(StandardCharsets.UTF_8))))
                .isInstanceOf(FrameCodec.MalformedFrameException.class).hasMessageContaining("flags 2");
    }
}
