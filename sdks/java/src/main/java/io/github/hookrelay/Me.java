package io.github.hookrelay;

/** The organization and key behind a client. */
public record Me(Organization organization, Key key) {
    public record Organization(String id, String name) {}

    /** applicationId is set for application keys. */
    public record Key(String id, Role role, String applicationId) {}
}
