package io.pypool;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.deser.std.StdDeserializer;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.BinaryNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.POJONode;
import com.fasterxml.jackson.databind.ser.std.StdSerializer;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Binary values beside the JSON of a frame (layout in {@link FrameCodec}), never base64 inside
 * it. In the JSON an attachment is a marker object in the value's place:
 * {@code {"__pypool_bytes__": i}} for bytes ({@code byte[]}, {@code ByteBuffer}; Python
 * {@code bytes}), {@code {"__pypool_ndarray__": i, "dtype": "float64", "shape": [2, 3]}} for an
 * {@link NdArray} (a NumPy array), i being the attachment's index. Markers are only looked for in
 * frames that carry attachments, and only in exactly these forms.
 *
 * <p>Sending: {@link #module()} goes on the pool's copy of the user's mapper. Its serializers put
 * each binary value in the {@link Sink} they find as their generator's output target (the
 * request being encoded) and write a marker; written anywhere else they do what Jackson does
 * (base64), so the pool's mapper stays an ordinary mapper. Receiving: {@link #resolve} puts each
 * attachment where its marker is, as a {@link BinaryNode} or an {@link NdArray}.
 */
final class Attachments {
    static final String BYTES_MARKER = "__pypool_bytes__";
    static final String NDARRAY_MARKER = "__pypool_ndarray__";

    private Attachments() {}

    /** Where an encoder collects the binary values of the frame it writes. */
    interface Sink {
        /** Keeps data (a byte[], or a ByteBuffer's remaining bytes) for the frame; returns its index. */
        int attach(Object data, int length);
    }

    static SimpleModule module() {
        SimpleModule m = new SimpleModule("pypool-attachments");
        m.addSerializer(byte[].class, new BytesSerializer());
        m.addSerializer(ByteBuffer.class, new ByteBufferSerializer());
        m.addSerializer(NdArray.class, new NdArraySerializer());
        m.addDeserializer(NdArray.class, new NdArrayDeserializer());
        return m;
    }

    // ---- sending --------------------------------------------------------------------------------------

    /** The attachments of one request, referenced (not copied) until the frame is built. */
    static final class Outgoing {
        private final List<Object> data = new ArrayList<>(2);
        private long bytes;

        int add(Object value, int length) {
            data.add(value);
            bytes += 4L + length;
            return data.size() - 1;
        }

        /**
         * The whole frame: header room, JSON length, JSON (from json[HEADER_BYTES..]), then the
         * attachments, each copied once, straight into the frame.
         */
        byte[] frame(byte[] json, int jsonLength, String command, int maxBodyBytes) {
            long body = 4L + jsonLength + bytes;
            if (body > maxBodyBytes) {
                throw new ArgumentsTooLargeException("the arguments of '" + command + "' are " + body + " bytes ("
                        + data.size() + " binary attachment" + (data.size() == 1 ? "" : "s") + " of " + (bytes - 4L * data.size())
                        + " bytes and " + jsonLength + " bytes of JSON), over maxFrameBytes (" + maxBodyBytes + ")",
                        body, maxBodyBytes);
            }
            byte[] frame = new byte[FrameCodec.HEADER_BYTES + (int) body];
            frame[5] = FrameCodec.FLAG_ATTACHMENTS;
            int pos = putLength(frame, FrameCodec.HEADER_BYTES, jsonLength);
            System.arraycopy(json, FrameCodec.HEADER_BYTES, frame, pos, jsonLength);
            pos += jsonLength;
            for (Object d : data) {
                if (d instanceof byte[] b) {
                    pos = putLength(frame, pos, b.length);
                    System.arraycopy(b, 0, frame, pos, b.length);
                    pos += b.length;
                } else {
                    ByteBuffer bb = (ByteBuffer) d;
                    pos = putLength(frame, pos, bb.remaining());
                    int n = bb.remaining();
                    bb.get(frame, pos, n);
                    pos += n;
                }
            }
            return frame;
        }

        private static int putLength(byte[] frame, int pos, int n) {
            frame[pos] = (byte) (n >>> 24);
            frame[pos + 1] = (byte) (n >>> 16);
            frame[pos + 2] = (byte) (n >>> 8);
            frame[pos + 3] = (byte) n;
            return pos + 4;
        }
    }

    private static Sink sinkOf(JsonGenerator gen) {
        return gen.getOutputTarget() instanceof Sink sink ? sink : null;
    }

    private static void writeBytesMarker(JsonGenerator gen, int index) throws IOException {
        gen.writeStartObject();
        gen.writeNumberField(BYTES_MARKER, index);
        gen.writeEndObject();
    }

    private static final class BytesSerializer extends StdSerializer<byte[]> {
        BytesSerializer() {
            super(byte[].class);
        }

        @Override
        public boolean isEmpty(SerializerProvider provider, byte[] value) {
            return value.length == 0;
        }

        @Override
        public void serialize(byte[] value, JsonGenerator gen, SerializerProvider provider) throws IOException {
            Sink sink = sinkOf(gen);
            if (sink == null) {
                gen.writeBinary(provider.getConfig().getBase64Variant(), value, 0, value.length);
            } else {
                writeBytesMarker(gen, sink.attach(value, value.length));
            }
        }
    }

    /** Sends a buffer's remaining bytes (position to limit), as Jackson does; the buffer is not moved. */
    private static final class ByteBufferSerializer extends StdSerializer<ByteBuffer> {
        ByteBufferSerializer() {
            super(ByteBuffer.class);
        }

        @Override
        public void serialize(ByteBuffer value, JsonGenerator gen, SerializerProvider provider) throws IOException {
            Sink sink = sinkOf(gen);
            ByteBuffer view = value.duplicate();
            if (sink != null) {
                writeBytesMarker(gen, sink.attach(view, view.remaining()));
            } else {
                byte[] copy = new byte[view.remaining()];
                view.get(copy);
                gen.writeBinary(provider.getConfig().getBase64Variant(), copy, 0, copy.length);
            }
        }
    }

    private static final class NdArraySerializer extends StdSerializer<NdArray> {
        NdArraySerializer() {
            super(NdArray.class);
        }

        @Override
        public void serialize(NdArray value, JsonGenerator gen, SerializerProvider provider) throws IOException {
            Sink sink = sinkOf(gen);
            gen.writeStartObject();
            if (sink != null) {
                gen.writeNumberField(NDARRAY_MARKER, sink.attach(value.data(), value.data().length));
            }
            gen.writeStringField("dtype", value.dtype());
            gen.writeArrayFieldStart("shape");
            for (int n : value.shape()) {
                gen.writeNumber(n);
            }
            gen.writeEndArray();
            if (sink == null) { // plain JSON elsewhere: the data as base64, read back by NdArrayDeserializer
                gen.writeFieldName("data");
                gen.writeBinary(provider.getConfig().getBase64Variant(), value.data(), 0, value.data().length);
            }
            gen.writeEndObject();
        }
    }

    /** An NdArray put in a reply's tree by {@link #resolve}, or the plain JSON form written elsewhere. */
    private static final class NdArrayDeserializer extends StdDeserializer<NdArray> {
        NdArrayDeserializer() {
            super(NdArray.class);
        }

        @Override
        public NdArray deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
            if (p.currentToken() == JsonToken.VALUE_EMBEDDED_OBJECT && p.getEmbeddedObject() instanceof NdArray a) {
                return a;
            }
            JsonNode node = ctxt.readTree(p);
            if (!node.isObject() || !node.path("dtype").isTextual() || !node.path("shape").isArray() || !node.has("data")) {
                return (NdArray) ctxt.handleUnexpectedToken(NdArray.class, p);
            }
            int[] shape = shape(node.get("shape"));
            if (shape == null) {
                throw JsonMappingException.from(p, "an NdArray's shape must be an array of non-negative ints, got "
                        + node.get("shape"));
            }
            return new NdArray(node.get("dtype").asText(), shape, node.get("data").binaryValue());
        }
    }

    // ---- receiving ------------------------------------------------------------------------------------

    /** The tree with each marker replaced by its attachment. */
    static JsonNode resolve(JsonNode root, byte[][] attachments) throws JsonMappingException {
        JsonNode replaced = replacement(root, attachments);
        return replaced != null ? replaced : walk(root, attachments);
    }

    private static JsonNode walk(JsonNode node, byte[][] attachments) throws JsonMappingException {
        if (node instanceof ObjectNode object) {
            for (Iterator<Map.Entry<String, JsonNode>> it = object.properties().iterator(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> field = it.next();
                JsonNode replaced = replacement(field.getValue(), attachments);
                if (replaced != null) {
                    field.setValue(replaced);
                } else {
                    walk(field.getValue(), attachments);
                }
            }
        } else if (node instanceof ArrayNode array) {
            for (int i = 0; i < array.size(); i++) {
                JsonNode replaced = replacement(array.get(i), attachments);
                if (replaced != null) {
                    array.set(i, replaced);
                } else {
                    walk(array.get(i), attachments);
                }
            }
        }
        return node;
    }

    /** What a marker stands for; null for any other node. */
    private static JsonNode replacement(JsonNode node, byte[][] attachments) throws JsonMappingException {
        if (!(node instanceof ObjectNode object)) {
            return null;
        }
        if (object.size() == 1 && object.has(BYTES_MARKER)) {
            return BinaryNode.valueOf(attachment(object.get(BYTES_MARKER), attachments));
        }
        if (object.size() == 3 && object.has(NDARRAY_MARKER)) {
            int[] shape = shape(object.path("shape"));
            if (shape == null) {
                throw JsonMappingException.from((JsonParser) null, "a NumPy array in the result cannot be read: its "
                        + "shape must be an array of non-negative ints, got " + object.path("shape"));
            }
            byte[] data = attachment(object.get(NDARRAY_MARKER), attachments);
            try {
                return new POJONode(new NdArray(object.path("dtype").asText(), shape, data));
            } catch (IllegalArgumentException e) {
                throw JsonMappingException.from((JsonParser) null, "a NumPy array in the result cannot be read: "
                        + e.getMessage());
            }
        }
        return null;
    }

    /** Dimensions as ints, or null if any is not a non-negative int (a wider one must not be cut to another shape). */
    static int[] shape(JsonNode node) {
        if (!node.isArray()) {
            return null;
        }
        int[] shape = new int[node.size()];
        for (int i = 0; i < shape.length; i++) {
            JsonNode n = node.get(i);
            if (!n.isInt() || n.intValue() < 0) {
                return null;
            }
            shape[i] = n.intValue();
        }
        return shape;
    }

    private static byte[] attachment(JsonNode index, byte[][] attachments) throws JsonMappingException {
        if (!index.isInt() || index.intValue() < 0 || index.intValue() >= attachments.length) {
            throw JsonMappingException.from((JsonParser) null, "a marker names attachment " + index + "; the reply has "
                    + attachments.length);
        }
        return attachments[index.intValue()];
    }
}
