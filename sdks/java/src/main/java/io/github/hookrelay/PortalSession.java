package io.github.hookrelay;

import java.time.Instant;

/** A link that opens the consumer portal signed in as an application (its token is in the URL's fragment). */
public record PortalSession(String id, String applicationId, String url, String token, Instant expiresAt) {}
