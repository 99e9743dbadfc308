package io.pypool;

import java.security.SecureRandom;
import java.util.HexFormat;

/** Run ids mark every worker's command line, so that leftovers of a run can be told apart from other processes. */
final class RunIds {
    private RunIds() {}

    static String next() {
        byte[] bytes = new byte[5];
        new SecureRandom().nextBytes(bytes);
        return HexFormat.of().formatHex(bytes);
    }
}
