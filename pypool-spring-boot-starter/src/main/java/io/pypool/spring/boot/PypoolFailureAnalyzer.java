package io.pypool.spring.boot;

import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;

/** Turns a pool that could not be made into Spring Boot's startup report: what went wrong, and what to change. */
final class PypoolFailureAnalyzer extends AbstractFailureAnalyzer<PypoolStartException> {

    @Override
    protected FailureAnalysis analyze(Throwable rootFailure, PypoolStartException cause) {
        return new FailureAnalysis(cause.getMessage(), cause.action(), cause);
    }
}
