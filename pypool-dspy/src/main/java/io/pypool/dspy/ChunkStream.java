package io.pypool.dspy;

import com.fasterxml.jackson.databind.JsonNode;
import io.pypool.SessionLostException;
import java.util.Iterator;
import java.util.Spliterator;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;

/**
 * A streamed execution's chunks, read from the pool's stream of JSON items: failures come as this
 * package's typed exceptions, and a session that ended before the stream's first item (idle
 * expiry, eviction) is opened again with its programs and the stream started there, once, as
 * {@link DspySession} does for plain calls. Closing it closes the pool's stream, which cancels the
 * execution in its worker.
 */
final class ChunkStream implements Spliterator<DspyChunk> {
    private final Function<SessionLostException, Stream<JsonNode>> retry; // null: nothing to reopen
    private volatile Stream<JsonNode> items;
    private Iterator<JsonNode> next;
    private boolean delivered; // a chunk reached the consumer: the stream is never started again
    private boolean retried;
    private volatile boolean closed;

    private ChunkStream(Function<SessionLostException, Stream<JsonNode>> retry) {
        this.retry = retry;
    }

    /** Starts the stream now (so that the call is under way, and refused arguments fail here). */
    static Stream<DspyChunk> open(Supplier<Stream<JsonNode>> opener, Function<SessionLostException, Stream<JsonNode>> retry) {
        ChunkStream chunks = new ChunkStream(retry);
        try {
            chunks.use(opener.get());
        } catch (SessionLostException lost) {
            chunks.startAgain(lost);
        } catch (RuntimeException e) {
            throw DspyErrors.translate(e);
        }
        return StreamSupport.stream(chunks, false).onClose(chunks::close);
    }

    @Override
    public boolean tryAdvance(Consumer<? super DspyChunk> action) {
        JsonNode item;
        while (true) {
            try {
                if (!next.hasNext()) {
                    return false;
                }
                item = next.next();
                break;
            } catch (SessionLostException lost) {
                if (delivered) {
                    throw lost;
                }
                startAgain(lost);
            } catch (RuntimeException e) {
                throw DspyErrors.translate(e);
            }
        }
        delivered = true;
        action.accept(DspyChunk.from(item));
        return true;
    }

    private void startAgain(SessionLostException lost) {
        if (retry == null || retried) {
            throw lost;
        }
        retried = true;
        Stream<JsonNode> failed = items;
        if (failed != null) {
            failed.close(); // ended already, with the loss: nothing to cancel
        }
        try {
            use(retry.apply(lost));
        } catch (RuntimeException e) {
            throw DspyErrors.translate(e);
        }
    }

    private void use(Stream<JsonNode> stream) {
        items = stream;
        next = stream.iterator();
        if (closed) { // closed by another thread meanwhile
            stream.close();
        }
    }

    void close() {
        closed = true;
        Stream<JsonNode> current = items;
        if (current != null) {
            current.close();
        }
    }

    @Override
    public Spliterator<DspyChunk> trySplit() {
        return null; // one execution's chunks, in order
    }

    @Override
    public long estimateSize() {
        return Long.MAX_VALUE;
    }

    @Override
    public int characteristics() {
        return ORDERED | NONNULL;
    }
}
