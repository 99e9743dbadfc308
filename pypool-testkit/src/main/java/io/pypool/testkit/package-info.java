/**
 * For your own tests of code that uses pypool: a JUnit 5 extension that builds pools and checks
 * that no process or thread is left behind ({@link io.pypool.testkit.PypoolExtension}), fault
 * injection in workers ({@link io.pypool.testkit.WorkerFaults}) and a clock you advance by hand
 * ({@link io.pypool.testkit.ManualClock}).
 */
package io.pypool.testkit;
