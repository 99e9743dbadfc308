package io.pypool;

import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamWriteConstraints;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * The JSON limits both sides agree on: nesting up to {@value #MAX_NESTING_DEPTH} levels (the
 * Python runtime's {@code protocol.MAX_NESTING_DEPTH}), strings as long as a frame may be. The
 * pool works on a copy of the user's mapper, so the user's own mapper is never changed.
 */
final class JsonLimits {
    static final int MAX_NESTING_DEPTH = 1000;

    private JsonLimits() {}

    static ObjectMapper applied(ObjectMapper userMapper, int maxFrameBytes) {
        ObjectMapper mapper = userMapper.copy();
        mapper.getFactory().setStreamReadConstraints(StreamReadConstraints.builder()
                .maxNestingDepth(MAX_NESTING_DEPTH)
                .maxStringLength(maxFrameBytes)
                .maxDocumentLength(maxFrameBytes)
                .build());
        mapper.getFactory().setStreamWriteConstraints(StreamWriteConstraints.builder()
                .maxNestingDepth(MAX_NESTING_DEPTH)
                .build());
        return mapper;
    }
}
