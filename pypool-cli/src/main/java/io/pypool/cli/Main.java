package io.pypool.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code pypool} command. */
@Command(name = "pypool", mixinStandardHelpOptions = true, version = "pypool 0.1.0",
        description = "Call Python from the JVM through a pool of warm worker processes.",
        subcommands = {DemoCommand.class, RunCommand.class, DoctorCommand.class})
public final class Main implements Runnable {

    public static void main(String[] args) {
        System.exit(new CommandLine(new Main()).execute(args));
    }

    @Override
    public void run() {
        new CommandLine(this).usage(System.out);
    }
}
