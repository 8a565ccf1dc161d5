package io.github.hookrelay;

import static io.github.hookrelay.Hookrelay.seg;

/** API keys (admin keys only). */
public final class Keys {
    private final Hookrelay client;

    Keys(Hookrelay client) {
        this.client = client;
    }

    /** Creates a key. Its full value is in the answer's {@link ApiKey#key()}, and nowhere else, ever. */
    public ApiKey create(ApiKeyIn key) {
        return client.send(Request.post("/v1/keys", key), ApiKey.class);
    }

    /** One page of the keys that are not revoked. */
    public Page<ApiKey> list(ListFilter.Pages pages) {
        return client.send(Request.get("/v1/keys").query(pages.params), Hookrelay.pageOf(ApiKey.class));
    }

    public Page<ApiKey> list() {
        return list(new ListFilter.Pages());
    }

    public PagedIterable<ApiKey> listAll() {
        ListFilter.Pages pages = new ListFilter.Pages();
        return new PagedIterable<>(1, page -> client.send(Request.get("/v1/keys").query(pages.forPage(page)), Hookrelay.pageOf(ApiKey.class)));
    }

    public ApiKey get(String id) {
        return client.send(Request.get("/v1/keys/" + seg(id)), ApiKey.class);
    }

    /** Revokes the key: it stops working within 5 s on every API process. */
    public void revoke(String id) {
        client.send(Request.delete("/v1/keys/" + seg(id)), Void.class);
    }
}
