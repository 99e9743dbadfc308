package io.pypool;

import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.core.exc.StreamReadException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;

/**
 * Turns a worker's reply into the caller's result or typed exception. A result that is valid
 * JSON but cannot be mapped (wrong type, deeper or longer than the agreed limits) fails that call
 * alone with {@link ResultMappingException}; only a reply that is not JSON at all, which pypool's
 * runtime never writes, marks the worker's output as untrustworthy and ends it.
 */
final class Replies {
    private final String poolName;
    private final ObjectMapper mapper;

    Replies(String poolName, ObjectMapper mapper) {
        this.poolName = poolName;
        this.mapper = mapper;
    }

    <T> T decode(Call.Reply reply, Call call, Class<T> type) {
        if (reply.kind() == FrameCodec.REPLY_OK) {
            return result(reply, call, type);
        }
        JsonNode error;
        try {
            error = mapper.readTree(reply.body());
        } catch (StreamConstraintsException e) {
            throw new ResultMappingException(poolName, "the error reply of '" + call.command + "' is past the JSON limits: "
                    + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw brokenReply(reply, call, e);
        }
        String kind = error.path("kind").asText();
        String message = error.path("message").asText();
        String workerId = reply.worker().id;
        switch (kind) {
            case "unknown_command" -> throw new UnknownCommandException(poolName, call.command, workerId, message);
            case "bad_arguments" -> throw new BadArgumentsException(poolName, call.command, workerId, message);
            case "expired" -> throw new CallTimeoutException(poolName, "call '" + call.command + "' timed out: worker "
                    + workerId + " " + message, false);
            default -> throw new PythonException(poolName, call.command, workerId, error.path("type").asText("Exception"),
                    message, error.path("traceback").asText(""));
        }
    }

    /** One item of a stream, read like a result. */
    <T> T item(FrameCodec.Frame item, Call call, Class<T> type) {
        return result(new Call.Reply(FrameCodec.REPLY_OK, item.body(), call.worker(), item.attachments()), call, type);
    }

    private <T> T result(Call.Reply reply, Call call, Class<T> type) {
        try {
            try {
                return parse(reply, type, false);
            } catch (StreamReadException e) {
                // Python writes a lone surrogate as a JSON escape (backslash, u, d800-dfff), which
                // is valid JSON; Jackson's byte parser refuses one in a field name, its text parser
                // takes it. Only what neither can read is a broken reply.
                try {
                    return parse(reply, type, true);
                } catch (StreamReadException again) {
                    throw e;
                }
            }
        } catch (StreamConstraintsException e) {
            throw new ResultMappingException(poolName, "the result of '" + call.command + "' is past the JSON limits "
                    + "both sides share (nesting " + JsonLimits.MAX_NESTING_DEPTH + ", strings up to maxFrameBytes): "
                    + e.getOriginalMessage(), e);
        } catch (StreamReadException e) {
            throw brokenReply(reply, call, e);
        } catch (IOException e) {
            String why = e instanceof com.fasterxml.jackson.core.JsonProcessingException jpe
                    ? jpe.getOriginalMessage() : e.getMessage();
            throw new ResultMappingException(poolName, "the result of '" + call.command + "' cannot be read as "
                    + type.getName() + ": " + why + "; result: " + abbreviate(FrameCodec.utf8(reply.body())), e);
        }
    }

    private <T> T parse(Call.Reply reply, Class<T> type, boolean asText) throws IOException {
        if (type == Void.class || type == void.class) {
            return null;
        }
        String text = asText ? FrameCodec.utf8(reply.body()) : null;
        if (reply.attachments() != null) {
            // Rare and binary: the attachments go where their markers are, in a tree, then to the type.
            JsonNode tree = Attachments.resolve(asText ? mapper.readTree(text) : mapper.readTree(reply.body()),
                    reply.attachments());
            return type == JsonNode.class ? type.cast(tree) : mapper.treeToValue(tree, type);
        }
        if (type == JsonNode.class) {
            return type.cast(asText ? mapper.readTree(text) : mapper.readTree(reply.body()));
        }
        return asText ? mapper.readValue(text, type) : mapper.readValue(reply.body(), type);
    }

    /** A reply that is not JSON: the worker's output cannot be trusted, so it is ended and replaced. */
    private ProtocolException brokenReply(Call.Reply reply, Call call, Exception e) {
        Worker w = reply.worker();
        String what = "sent a reply to '" + call.command + "' that is not valid JSON: " + abbreviate(FrameCodec.utf8(reply.body()));
        WorkerTransport t = w.transport();
        if (t != null) {
            t.kill(what);
        }
        return new ProtocolException(poolName, "worker " + w.id + " (pid " + w.pid() + ") " + what
                + "; the worker was ended and is being replaced", e);
    }

    static String abbreviate(String s) {
        return s.length() <= 200 ? s : s.substring(0, 200) + "... (" + s.length() + " chars)";
    }
}
