package io.pypool;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * The wire format, shared with {@code python/pypool/protocol.py}: a u32 length, then kind (u8),
 * flags (u8), reserved (u16) and request id (u64), then a UTF-8 JSON body. The length counts
 * everything after itself. Unknown kinds and flags are protocol errors.
 *
 * <p>Flag bit 0 ({@link #FLAG_ATTACHMENTS}, on frames that carry values): the body is a u32 JSON
 * length, the JSON, then each binary attachment as a u32 length and its bytes, to the body's end;
 * the JSON names them by marker objects ({@link Attachments}). A frame without attachments is
 * bare JSON, exactly as before, and takes the same code path as before.
 */
final class FrameCodec {
    static final int HEADER_BYTES = 16;
    static final int HEADER_REST = 12;
    /** Where the digits of "deadline_ms" sit in an encoded request: after the header and {"deadline_ms":. */
    static final int DEADLINE_OFFSET = HEADER_BYTES + "{\"deadline_ms\":".length();
    static final int DEADLINE_DIGITS = 12;
    private static final long MAX_DEADLINE_MILLIS = 999_999_999_999L;

    static final byte HELLO = 1;
    static final byte REQUEST = 2;
    static final byte REPLY_OK = 3;
    static final byte REPLY_ERROR = 4;
    static final byte STARTUP_FAILED = 5;
    static final byte CANCEL = 6;
    static final byte STREAM_ITEM = 7;
    static final byte CREDIT = 8;
    static final byte CALL_JAVA = 9;
    static final byte JAVA_RESULT = 10;
    static final byte JAVA_ERROR = 11;

    static final byte FLAG_ATTACHMENTS = 1;

    private FrameCodec() {}

    /** A frame as read; attachments is null for a frame without them (body is then all of its JSON). */
    record Frame(byte kind, long requestId, byte[] body, byte[][] attachments) {
        Frame(byte kind, long requestId, byte[] body) {
            this(kind, requestId, body, null);
        }
    }

    /** A frame that cannot be read; the worker that sent it is not to be trusted any more. */
    static final class MalformedFrameException extends IOException {
        MalformedFrameException(String message) {
            super(message);
        }
    }

    /**
     * Encodes a request body behind 16 bytes of headroom, so that the header can be stamped in
     * place once a worker and request id are chosen, and the whole frame goes out in one write.
     */
    static byte[] encodeRequest(ObjectMapper mapper, String command, Object args, String sessionId)
            throws IOException {
        return encodeRequest(mapper, command, args, sessionId, Integer.MAX_VALUE);
    }

    /**
     * As above; binary values in the arguments become attachments (with a mapper that has
     * {@link Attachments#module()}). A body with attachments over maxBodyBytes is refused before
     * anything is copied; the caller checks the size of one without.
     */
    static byte[] encodeRequest(ObjectMapper mapper, String command, Object args, String sessionId, int maxBodyBytes)
            throws IOException {
        return encodeRequest(mapper, command, args, sessionId, maxBodyBytes, 0, 0);
    }

    /**
     * As above; with {@code creditItems > 0} the request asks for a stream, with that many items
     * and {@code creditBytes} bytes of credit to begin with (protocol.py has the rules).
     */
    static byte[] encodeRequest(ObjectMapper mapper, String command, Object args, String sessionId, int maxBodyBytes,
                                int creditItems, long creditBytes) throws IOException {
        return encodeRequest(mapper, command, args, sessionId, maxBodyBytes, creditItems, creditBytes, null);
    }

    /**
     * As above; a non-null {@code traceparent} (a {@link CallTracer}'s) goes out after the command,
     * the deadline staying first where {@link #stampDeadline} finds it.
     */
    static byte[] encodeRequest(ObjectMapper mapper, String command, Object args, String sessionId, int maxBodyBytes,
                                int creditItems, long creditBytes, String traceparent) throws IOException {
        Headroom out = new Headroom(HEADER_BYTES + 64);
        try (JsonGenerator gen = mapper.getFactory().createGenerator(out)) {
            gen.writeStartObject();
            // Room for the remaining time, stamped when the call is sent (whitespace before a JSON number is allowed).
            gen.writeFieldName("deadline_ms");
            gen.writeRawValue(" ".repeat(DEADLINE_DIGITS - 1) + "0");
            gen.writeStringField("cmd", command);
            if (traceparent != null) {
                gen.writeStringField("traceparent", traceparent);
            }
            if (sessionId != null) {
                gen.writeStringField("session", sessionId);
            }
            if (creditItems > 0) {
                gen.writeObjectFieldStart("stream");
                gen.writeNumberField("items", creditItems);
                gen.writeNumberField("bytes", creditBytes);
                gen.writeEndObject();
            }
            gen.writeFieldName("args");
            mapper.writeValue(gen, args);
            gen.writeEndObject();
        }
        if (out.attachments == null) {
            return out.toByteArray();
        }
        return out.attachments.frame(out.buffer(), out.size() - HEADER_BYTES, command, maxBodyBytes);
    }

    /**
     * A whole frame of {@code kind} whose body is {@code value} as JSON, binary values as
     * attachments (a callback's result). Over maxBodyBytes it throws {@link ArgumentsTooLargeException}.
     */
    static byte[] encodeValue(ObjectMapper mapper, byte kind, long id, Object value, String what, int maxBodyBytes)
            throws IOException {
        Headroom out = new Headroom(HEADER_BYTES + 64);
        try (JsonGenerator gen = mapper.getFactory().createGenerator(out)) {
            mapper.writeValue(gen, value);
        }
        byte[] frame = out.attachments == null ? out.toByteArray()
                : out.attachments.frame(out.buffer(), out.size() - HEADER_BYTES, what, maxBodyBytes);
        if (bodyLength(frame) > maxBodyBytes) {
            throw new ArgumentsTooLargeException(what + " is " + bodyLength(frame) + " bytes as JSON, over maxFrameBytes ("
                    + maxBodyBytes + ")", bodyLength(frame), maxBodyBytes);
        }
        stampHeader(frame, kind, id);
        return frame;
    }

    /** A small frame with a body given whole (CANCEL, CREDIT, JAVA_ERROR). */
    static byte[] control(byte kind, long id, byte[] body) {
        byte[] frame = new byte[HEADER_BYTES + body.length];
        System.arraycopy(body, 0, frame, HEADER_BYTES, body.length);
        stampHeader(frame, kind, id);
        return frame;
    }

    /**
     * Writes the call's remaining time into the room {@link #encodeRequest} left for it, so the
     * worker can refuse to start a call whose time is up.
     */
    static void stampDeadline(byte[] frame, long remainingMillis) {
        long ms = Math.max(0, Math.min(remainingMillis, MAX_DEADLINE_MILLIS));
        // With attachments the JSON starts after its u32 length.
        int offset = (frame[5] & FLAG_ATTACHMENTS) == 0 ? DEADLINE_OFFSET : DEADLINE_OFFSET + 4;
        int end = offset + DEADLINE_DIGITS;
        int i = end;
        do {
            frame[--i] = (byte) ('0' + ms % 10);
            ms /= 10;
        } while (ms > 0);
        while (i > offset) {
            frame[--i] = ' ';
        }
    }

    static void stampHeader(byte[] frame, byte kind, long requestId) {
        int length = frame.length - 4;
        frame[0] = (byte) (length >>> 24);
        frame[1] = (byte) (length >>> 16);
        frame[2] = (byte) (length >>> 8);
        frame[3] = (byte) length;
        frame[4] = kind;
        // frame[5], the flags, was set when the body was encoded
        frame[6] = 0;
        frame[7] = 0;
        for (int i = 0; i < 8; i++) {
            frame[8 + i] = (byte) (requestId >>> (56 - 8 * i));
        }
    }

    static int bodyLength(byte[] frame) {
        return frame.length - HEADER_BYTES;
    }

    /** Reads one frame; null at a clean end of input (between frames). */
    static Frame read(DataInputStream in, int maxBodyBytes) throws IOException {
        byte[] header = new byte[HEADER_BYTES];
        int first = in.read(header, 0, HEADER_BYTES);
        if (first < 0) {
            return null;
        }
        try {
            in.readFully(header, first, HEADER_BYTES - first);
        } catch (EOFException e) {
            throw new MalformedFrameException("input ended inside a frame header after " + first
                    + " bytes: " + describe(header, first));
        }
        long length = ((header[0] & 0xFFL) << 24) | ((header[1] & 0xFF) << 16) | ((header[2] & 0xFF) << 8) | (header[3] & 0xFF);
        byte kind = header[4];
        if (length < HEADER_REST || length - HEADER_REST > maxBodyBytes) {
            throw new MalformedFrameException("frame length " + length + " is outside " + HEADER_REST + ".."
                    + ((long) maxBodyBytes + HEADER_REST) + "; the channel starts with " + describe(header, HEADER_BYTES));
        }
        byte flags = header[5];
        if (!fromWorker(kind) || header[6] != 0 || header[7] != 0
                || (flags != 0 && (flags != FLAG_ATTACHMENTS || !carriesValues(kind)))) {
            throw new MalformedFrameException("unexpected frame header (kind " + kind + ", flags " + header[5]
                    + "): " + describe(header, HEADER_BYTES));
        }
        long requestId = 0;
        for (int i = 0; i < 8; i++) {
            requestId = (requestId << 8) | (header[8 + i] & 0xFF);
        }
        if (flags != 0) {
            return readAttached(in, kind, requestId, (int) (length - HEADER_REST));
        }
        byte[] body = new byte[(int) (length - HEADER_REST)];
        try {
            in.readFully(body);
        } catch (EOFException e) {
            throw new MalformedFrameException("input ended inside a frame body of " + body.length + " bytes");
        }
        return new Frame(kind, requestId, body);
    }

    /** The kinds a worker may send. */
    private static boolean fromWorker(byte kind) {
        return kind == HELLO || kind == REPLY_OK || kind == REPLY_ERROR || kind == STARTUP_FAILED
                || kind == STREAM_ITEM || kind == CALL_JAVA;
    }

    private static boolean carriesValues(byte kind) {
        return kind == REPLY_OK || kind == STREAM_ITEM || kind == CALL_JAVA;
    }

    /** The body of a frame with attachments, each read into an array of its own (no copy later). */
    private static Frame readAttached(DataInputStream in, byte kind, long requestId, int size) throws IOException {
        try {
            long left = size;
            int jsonLength = readLength(in, left, "the JSON");
            left -= 4 + jsonLength;
            byte[] json = new byte[jsonLength];
            in.readFully(json);
            java.util.List<byte[]> parts = new java.util.ArrayList<>();
            while (left > 0) {
                int n = readLength(in, left, "attachment " + parts.size());
                left -= 4 + n;
                byte[] part = new byte[n];
                in.readFully(part);
                parts.add(part);
            }
            return new Frame(kind, requestId, json, parts.toArray(new byte[0][]));
        } catch (EOFException e) {
            throw new MalformedFrameException("input ended inside a frame body of " + size + " bytes with attachments");
        }
    }

    private static int readLength(DataInputStream in, long left, String what) throws IOException {
        if (left < 4) {
            throw new MalformedFrameException("a frame with attachments ends inside the length of " + what);
        }
        long n = in.readInt() & 0xFFFFFFFFL;
        if (n > left - 4) {
            throw new MalformedFrameException("the length of " + what + " (" + n + " bytes) runs past the end of its "
                    + "frame (" + (left - 4) + " bytes left)");
        }
        return (int) n;
    }

    /** Shows raw bytes both as text and hex, since the usual culprit is stray text on the channel. */
    static String describe(byte[] bytes, int count) {
        StringBuilder text = new StringBuilder("'");
        StringBuilder hex = new StringBuilder();
        for (int i = 0; i < count; i++) {
            int b = bytes[i] & 0xFF;
            text.append(b >= 0x20 && b < 0x7F ? (char) b : '.');
            hex.append(String.format("%02x", b));
        }
        return text.append("' (hex ").append(hex).append(')').toString();
    }

    static String utf8(byte[] body) {
        return new String(body, StandardCharsets.UTF_8);
    }

    /**
     * A ByteArrayOutputStream that starts with the header's bytes reserved. It is also where the
     * attachment serializers, finding it as their generator's output target, put binary values.
     */
    private static final class Headroom extends ByteArrayOutputStream implements Attachments.Sink {
        private Attachments.Outgoing attachments;

        Headroom(int size) {
            super(size);
            count = HEADER_BYTES;
        }

        @Override
        public int attach(Object data, int length) {
            if (attachments == null) {
                attachments = new Attachments.Outgoing();
            }
            return attachments.add(data, length);
        }

        byte[] buffer() {
            return buf;
        }
    }
}
