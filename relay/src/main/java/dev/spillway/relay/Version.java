package dev.spillway.relay;

/** Spillway's own version, from the relay jar's manifest ({@code Implementation-Version}). */
public final class Version {

    private static final String VERSION = Version.class.getPackage().getImplementationVersion();

    private Version() {}

    /** The version, or {@code development} when the classes do not come from the jar. */
    public static String get() {
        return VERSION == null ? "development" : VERSION;
    }
}
